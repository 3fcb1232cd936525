/**
 * The held-out evaluation text of a probe run: the sequences its probes were NOT fit on (the test side
 * of the sweep's split by sequence), rebuilt from the store's dataset config with the model's tokenizer,
 * decoded, joined by newlines.
 *
 * Sequences are taken in dataset order until `bytes` are reached. A feature with no positive row in them
 * then gets the first held-out sequence that has one, unless `strict`: then, and whenever a feature has
 * no positive in any held-out sequence, it is an InputError naming the feature. Removing a feature's
 * direction from text where the feature never occurs measures nothing about the feature.
 */
import { InputError } from '../core/index.ts';
import { makeDataset, type ActivationStore, type DatasetOptions, type Tokenizer } from '../../activations/index.ts';
import { splitFor, type SweepConfig } from '../../probes/index.ts';

export interface EvalText {
  text: string;
  bytes: number;
  sequences: number;
  /** Sequences added only because a feature had no positive in the first `bytes`. */
  added_for_features: string[];
  /** Positive store rows per feature in the chosen sequences. */
  positives: Record<string, number>;
  /** Store rows in the chosen sequences. */
  rows: number;
}

export function heldOutText(
  store: ActivationStore, hook: string, hookFeatures: string[], needed: string[], config: SweepConfig, tokenizer: Tokenizer,
  opts: { bytes: number; strict?: boolean; where: string },
): EvalText {
  const data = store.readProbeData(hook);
  const split = splitFor(data, hookFeatures, config.testFrac, config.seed);
  // Per held-out sequence: its rows and its positives per needed feature.
  const perSeq = new Map<number, { rows: number; pos: number[] }>();
  for (const r of split.test) {
    const s = data.seqIds[r]!;
    let e = perSeq.get(s);
    if (!e) perSeq.set(s, (e = { rows: 0, pos: new Array<number>(needed.length).fill(0) }));
    e.rows++;
    needed.forEach((f, i) => (e!.pos[i]! += data.labels[f]![r]!));
  }
  const dcfg = store.manifest.config.dataset as (Partial<DatasetOptions> & { name?: string }) | undefined;
  if (!dcfg || typeof dcfg.name !== 'string' || typeof dcfg.context !== 'number' || typeof dcfg.seed !== 'number') {
    throw new InputError(`${opts.where}: the store's config.dataset does not say how to rebuild its text (name, context, seed)`, opts.where);
  }
  const dataset = makeDataset(dcfg.name, tokenizer, dcfg as DatasetOptions);
  const parts: string[] = [];
  const have = new Array<number>(needed.length).fill(0);
  const added: string[] = [];
  let bytes = 0, rows = 0, sequences = 0;
  const take = (ids: number[], e: { rows: number; pos: number[] }) => {
    const body = tokenizer.bosId !== undefined && ids[0] === tokenizer.bosId ? ids.slice(1) : ids;
    const t = tokenizer.decode(body);
    parts.push(t);
    bytes += Buffer.byteLength(t, 'utf8') + (parts.length > 1 ? 1 : 0);
    rows += e.rows;
    sequences++;
    e.pos.forEach((p, i) => (have[i]! += p));
  };
  const missing = () => needed.filter((_, i) => have[i] === 0);
  for (const seq of dataset.sequences()) {
    const e = perSeq.get(seq.seqId);
    if (!e) continue;
    if (bytes < opts.bytes) take(seq.ids, e);
    else if (opts.strict) break;
    else {
      const lacking = needed.filter((_, i) => have[i] === 0 && e.pos[i]! > 0);
      if (lacking.length > 0) {
        take(seq.ids, e);
        added.push(...lacking);
      }
      if (missing().length === 0) break;
    }
  }
  const lack = missing();
  if (lack.length > 0) {
    const why = opts.strict ? `in the first ${opts.bytes} bytes of held-out text (raise --eval-bytes or drop --eval-strict)` : 'in any held-out sequence of the store';
    throw new InputError(`${opts.where}: feature${lack.length > 1 ? 's' : ''} ${lack.map((f) => `'${f}'`).join(', ')} on hook '${hook}' ha${lack.length > 1 ? 've' : 's'} no positive ${why}: importance there would measure nothing about ${lack.length > 1 ? 'them' : 'it'}`, opts.where);
  }
  return {
    text: parts.join('\n'), bytes, sequences, added_for_features: added, rows,
    positives: Object.fromEntries(needed.map((f, i) => [f, have[i]!])),
  };
}

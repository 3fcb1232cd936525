/**
 * A neuron page's data: the store's evidence (probes/neuron-evidence.ts), the neuron's direct logit
 * effect when a model is at hand (activations/neuron-effects.ts), and its label and selectivity from a
 * classify run. `lab neurons` prints these; the report draws them. `neuronsOfInterest` picks the
 * neurons a classify run's report gets pages for.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError, UsageError, readJson, readManifest } from '../lab/core/index.ts';
import {
  loadTokenizer, modelVocabSize, neuronLogitEffects, openActivationStore,
  type ActivationStore, type NeuronLogits, type Tokenizer,
} from '../activations/index.ts';
import type { ClassifyResult } from './classify.ts';
import { probedFeatures } from './classify-run.ts';
import { neuronEvidence, type EvidenceOptions, type NeuronEvidence } from './neuron-evidence.ts';
import { readSweep } from './sweep.ts';

export interface NeuronClassification {
  label: string;
  features: string[];
  /** Per probed feature: share of the neuron's positive response, the mean difference and its z. */
  selectivity: Array<{ feature: string; share: number; response: number; z: number }>;
}

export interface NeuronPage extends NeuronEvidence {
  logits?: Pick<NeuronLogits, 'top' | 'bottom'>;
  classification?: NeuronClassification;
  /** Why the report picked this neuron (empty for `lab neurons`). */
  why: string[];
  /** Filled by the caller that ran the ablation (lab report with a text, lab demo). */
  ablation?: { mode: string; base_loss: number; ablated_loss: number; delta_loss: number; delta_bits_per_byte: number; text_bytes: number };
}

export interface NeuronPagesOptions extends Omit<EvidenceOptions, 'tokenizer'> {
  /** The activation store (a harvest run directory) or an opened one. */
  activations: string | ActivationStore;
  /** A model folder: decodes contexts with its tokenizer and adds logit effects for blocks.L.mlp.hook_post. */
  model?: string;
  /** A classify run directory: label, features and selectivity per neuron. */
  classify?: string;
  why?: Record<string, string[]>;
}

/** The store's own model folder when it still exists (contexts decode without --model). */
function storeModelDir(store: ActivationStore): string | undefined {
  const m = store.manifest.model as { source?: string; dir?: string };
  return m.source === 'model' && typeof m.dir === 'string' && existsSync(join(m.dir, 'tokenizer.json')) ? m.dir : undefined;
}

/** Largest token id of the store's rows (-1 when it keeps none), from the rows files alone (int32 [rows, 3]). */
function maxTokenId(store: ActivationStore): number {
  let max = -1;
  for (const c of store.manifest.chunks) {
    const path = join(store.dir, c.files.rows);
    const b = readFileSync(path);
    if (b.length !== c.rows * 12) throw new InputError(`${path} has ${b.length} bytes, expected ${c.rows * 12}: the store is corrupt`, path);
    for (let r = 0; r < c.rows; r++) {
      const t = b.readInt32LE(r * 12 + 8);
      if (t > max) max = t;
    }
  }
  return max;
}

export async function neuronPages(opts: NeuronPagesOptions): Promise<NeuronPage[]> {
  const store = typeof opts.activations === 'string' ? openActivationStore(opts.activations) : opts.activations;
  let tokenizer: Tokenizer | undefined;
  const modelDir = opts.model ?? storeModelDir(store);
  if (opts.model) {
    if (!existsSync(join(opts.model, 'config.json'))) throw new UsageError(`--model ${opts.model}: no config.json there (a Hugging Face model folder is expected)`, 'model');
    const maxId = maxTokenId(store);
    if (maxId < 0) {
      throw new UsageError(`--model ${opts.model}: the store ${store.dir} keeps no token ids (toy samples or aggregated rows), so there are no contexts to decode and no tokens to attribute; drop --model`, 'model');
    }
    const vocab = modelVocabSize(opts.model);
    if (maxId >= vocab) throw new UsageError(`--model ${opts.model}: its vocabulary has ${vocab} tokens but the store ${store.dir} holds token id ${maxId}: not the model it was harvested with`, 'model');
  }
  if (modelDir) tokenizer = loadTokenizer(modelDir);
  const evidence = await neuronEvidence(store, { ...opts, tokenizer });
  let logits: NeuronLogits[] | undefined;
  if (opts.model && /^blocks\.\d+\.mlp\.hook_post$/.test(opts.hook)) {
    logits = neuronLogitEffects(opts.model, opts.hook, opts.neurons, 10, tokenizer);
  }
  const cls = opts.classify ? classifyLookup(opts.classify) : undefined;
  return evidence.map((e, i) => ({
    ...e,
    ...(logits ? { logits: { top: logits[i]!.top, bottom: logits[i]!.bottom } } : {}),
    ...(cls ? { classification: cls(e.hook, e.neuron) } : {}),
    why: opts.why?.[`${e.hook}:${e.neuron}`] ?? [],
  }));
}

/** Reads a classify run's classify.json; returns a lookup by (hook, neuron). */
export function classifyLookup(dir: string): (hook: string, neuron: number) => NeuronClassification | undefined {
  readManifest(dir, { kind: 'classify' });
  const path = join(dir, 'classify.json');
  if (!existsSync(path)) throw new InputError(`${path} is missing: a complete classify run has it`, path);
  const res = readJson<ClassifyResult>(path);
  const byKey = new Map(res.neurons.map((n) => [`${n.hook}:${n.neuron}`, n]));
  return (hook, neuron) => {
    const n = byKey.get(`${hook}:${neuron}`);
    if (!n) return undefined;
    const names = probedFeatures(hook, res);
    return {
      label: n.label, features: n.features,
      selectivity: names.map((f, i) => ({ feature: f, share: n.shares[i]!, response: n.responses[i]!, z: n.z[i]! })).sort((a, b) => b.share - a.share),
    };
  };
}

export interface InterestingNeurons {
  /** The store the classify run's probes read. */
  activations: string;
  /** hook -> neurons, in the order they were picked. */
  byHook: Map<string, number[]>;
  /** "hook:neuron" -> reasons. */
  why: Record<string, string[]>;
}

/**
 * The neurons a classify run's report shows pages for: every neuron some feature's 1-sparse probe
 * picked, the neurons of each feature's best k-sparse probe, and `contrast` mono and poly neurons per
 * hook (those with the largest response mass), at most `max` in all (in that order of priority).
 */
export function neuronsOfInterest(classifyDir: string, opts: { contrast?: number; max?: number } = {}): InterestingNeurons {
  const m = readManifest(classifyDir, { kind: 'classify' });
  const probes = (m.config as { probes?: string }).probes;
  if (typeof probes !== 'string') throw new InputError(`${join(classifyDir, 'manifest.json')} names no probe run (config.probes)`, join(classifyDir, 'manifest.json'));
  const sweep = readSweep(probes);
  const activations = resolve(String(sweep.config.activations));
  const res = readJson<ClassifyResult>(join(classifyDir, 'classify.json'));
  const max = opts.max ?? 40;
  const why: Record<string, string[]> = {};
  const byHook = new Map<string, number[]>();
  let count = 0;
  const add = (hook: string, neuron: number, reason: string) => {
    const key = `${hook}:${neuron}`;
    if (why[key]) {
      if (!why[key]!.includes(reason)) why[key]!.push(reason);
      return;
    }
    if (count >= max) return;
    why[key] = [reason];
    count++;
    if (!byHook.has(hook)) byHook.set(hook, []);
    byHook.get(hook)!.push(neuron);
  };
  const ok = res.features.filter((f) => f.status === 'ok');
  for (const f of ok) if (f.k1_neuron !== null) add(f.hook, f.k1_neuron, `1-sparse probe of ${f.feature}`);
  for (const f of ok) {
    const row = sweep.rows.find((r) => r.feature === f.feature && r.hook === f.hook && r.method === f.best_method && r.k === f.best_k && r.status === 'ok');
    for (const n of row?.neurons ?? []) add(f.hook, n, `best ${f.best_k}-sparse probe of ${f.feature}`);
  }
  const contrast = opts.contrast ?? 2;
  for (const hook of new Set(res.neurons.map((n) => n.hook))) {
    for (const label of ['mono', 'poly'] as const) {
      res.neurons.filter((n) => n.hook === hook && n.label === label).sort((a, b) => b.response_mass - a.response_mass)
        .slice(0, contrast).forEach((n) => add(hook, n.neuron, `${label} neuron for contrast`));
    }
  }
  return { activations, byHook, why };
}

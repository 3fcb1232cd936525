/**
 * A summary of a harvest run (the activation store, activations/store): which hooks with how many rows
 * and neurons, the dataset, its features and their positive counts, tokens and disk use. It reads the
 * store manifest and the label files only, never the activation chunks, so it stays fast on a big store.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { openActivationStore } from '../activations/index.ts';

type Facts = Record<string, string | number>;

function bytesOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

export function harvestTables(dir: string, facts: Facts, opts: { allowPartial?: boolean } = {}): Record<string, ColumnTable> {
  const store = openActivationStore(dir, { allowPartial: opts.allowPartial });
  const m = store.manifest;
  facts.dataset = m.dataset.name;
  facts.level = m.dataset.level;
  const modelName = m.model.name ?? m.model.dir ?? m.model.architecture ?? m.model.source;
  if (typeof modelName === 'string') facts.model = modelName;
  facts.rows = m.total_rows;
  facts.sequences = m.total_sequences;
  facts.tokens = m.total_tokens;
  facts.chunks = m.chunks.length;
  facts.dtype = m.quantisation && m.dtype === 'u8' ? `u8 (${m.quantisation})` : m.dtype;
  facts.aggregation = m.aggregation;
  if (!m.complete) facts.store = 'partial: only the listed chunks are whole';
  if (m.toy) facts.toy_run = m.toy.run_dir;

  const hooks = m.hooks.map((h) => {
    let bytes = 0;
    for (const c of m.chunks) {
      const f = c.files.hooks[h.name];
      if (f) bytes += bytesOf(join(dir, f.data)) + (f.qparams ? bytesOf(join(dir, f.qparams)) : 0);
    }
    return { hook: h.name, rows: m.total_rows, neurons: h.n_neurons, row_shape: h.row_shape.join('x'), dtype: m.dtype, mib: +(bytes / 2 ** 20).toFixed(3) };
  });

  const labels = store.labelsTable();
  const positives = m.dataset.label_columns.map((col) => {
    const values = labels.array(col) as ArrayLike<number>;
    let pos = 0;
    for (let i = 0; i < values.length; i++) pos += values[i]! ? 1 : 0;
    return { feature: col, positives: pos, rows: values.length, rate: values.length ? +(pos / values.length).toFixed(4) : 0 };
  });
  return { harvest_hooks: aq.from(hooks), harvest_features: aq.from(positives) };
}

/**
 * A summary of a harvest run (the activation store): which hooks, how many rows and neurons each, the
 * dataset, its features and their positive counts, and how much disk the chunks take. Reads only
 * manifests and label files, never the activation chunks themselves, so it stays fast on a big store.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import type { Manifest } from '../lab/run-dir.ts';

type Facts = Record<string, string | number>;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Hook entries may be a map name -> info or a list of {name, ...}; both are read. */
function hookEntries(m: Record<string, unknown>): [string, Record<string, unknown>][] {
  const hooks = m.hooks ?? (isRecord(m.store) ? m.store.hooks : undefined);
  if (Array.isArray(hooks)) {
    return hooks.map((h, i) => (isRecord(h) ? [String(h.name ?? h.hook ?? i), h] : [String(h), {}]));
  }
  if (isRecord(hooks)) return Object.entries(hooks).map(([k, v]) => [k, isRecord(v) ? v : {}]);
  return [];
}

function walk(dir: string, out: { path: string; bytes: number }[], depth = 0): void {
  if (depth > 3) return;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) walk(p, out, depth + 1);
    else out.push({ path: p, bytes: st.size });
  }
}

export function harvestTables(dir: string, manifest: Manifest, facts: Facts): Record<string, ColumnTable> {
  const m = manifest as unknown as Record<string, unknown>;
  const config = isRecord(manifest.config) ? manifest.config : {};
  const pick = (...keys: string[]): unknown => {
    for (const k of keys) {
      if (m[k] !== undefined) return m[k];
      if (config[k] !== undefined) return config[k];
    }
    return undefined;
  };
  for (const [label, keys] of [
    ['dataset', ['dataset', 'dataset_name']],
    ['model', ['model', 'model_dir', 'checkpoint']],
    ['level', ['level']],
    ['sequences', ['n_sequences', 'sequences', 'num_sequences']],
    ['tokens', ['n_tokens', 'tokens', 'num_tokens', 'n_rows', 'rows']],
    ['dtype', ['dtype', 'quantization', 'quantisation']],
  ] as const) {
    const v = pick(...keys);
    if (typeof v === 'string' || typeof v === 'number') facts[label] = v;
    else if (isRecord(v) && typeof v.name === 'string') facts[label] = v.name;
  }

  const files: { path: string; bytes: number }[] = [];
  walk(dir, files);
  facts.files = files.length;
  facts.bytes = files.reduce((a, f) => a + f.bytes, 0);

  const out: Record<string, ColumnTable> = {};
  const hooks = hookEntries(m).length > 0 ? hookEntries(m) : hookEntries(config);
  if (hooks.length > 0) {
    const rows = hooks.map(([name, h]) => {
      const shape = Array.isArray(h.shape) ? (h.shape as unknown[]).map(Number) : undefined;
      const prefix = name + '';
      const bytes = files.filter((f) => relative(dir, f.path).includes(prefix)).reduce((a, f) => a + f.bytes, 0);
      return {
        hook: name,
        rows: num(h.rows) ?? num(h.n_rows) ?? shape?.[0] ?? null,
        neurons: num(h.neurons) ?? num(h.n_neurons) ?? num(h.width) ?? shape?.[shape.length - 1] ?? null,
        dtype: typeof h.dtype === 'string' ? h.dtype : typeof facts.dtype === 'string' ? facts.dtype : '',
        chunks: num(h.chunks) ?? (Array.isArray(h.chunks) ? h.chunks.length : null),
        bytes,
      };
    });
    out.harvest_hooks = aq.from(rows);
  }
  const feats = pick('features', 'feature_counts', 'positives');
  if (isRecord(feats)) {
    out.harvest_features = aq.from(
      Object.entries(feats).map(([feature, v]) => ({
        feature,
        positives: num(v) ?? (isRecord(v) ? num(v.positives) ?? num(v.pos) ?? null : null),
      })),
    );
  } else if (Array.isArray(feats)) {
    out.harvest_features = aq.from(
      feats.map((f) => (isRecord(f) ? { feature: String(f.name ?? f.feature), positives: num(f.positives) ?? null } : { feature: String(f), positives: null })),
    );
    facts.features = feats.length;
  }
  return out;
}

/**
 * Neuron evidence against an independent numpy reading of the same store (probes/peers/
 * neuron_evidence_numpy.py): stores this test writes in f32, f16 and u8, several chunks, two hooks.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng, RunDir } from '../lab/core/index.ts';
import { StoreWriter, openActivationStore, type StoreDtype } from '../activations/index.ts';
import { neuronEvidence } from './neuron-evidence.ts';

const here = dirname(fileURLToPath(import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'neuron-evidence-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const A = 24, B = 8, FEATS = ['alpha', 'beta', 'gamma'];

/** 40 sequences of 5..20 tokens; hook a: normals (neuron 2 has tied plateaus, 7 is dead), hook b: b3 = a5 + noise. */
function writeStore(dir: string, dtype: StoreDtype): void {
  const run = RunDir.begin(dir, { kind: 'harvest', seed: 0, config: { dtype } });
  const w = StoreWriter.open(dir, {
    config: { dtype }, model: { name: 'none' },
    dataset: { name: 'test', level: 'token', features: FEATS, label_columns: FEATS },
    seed: 0, aggregation: 'none', dtype, quantisation: dtype === 'u8' ? 'per_neuron' : 'none',
    hooks: [{ name: 'blocks.0.mlp.hook_post', n_neurons: A, row_shape: [A] }, { name: 'blocks.1.mlp.hook_post', n_neurons: B, row_shape: [B] }],
  }, { chunkRows: 120 });
  const rng = new Rng(5);
  for (let s = 0; s < 40; s++) {
    const rows = 5 + rng.int(16);
    const a = new Float32Array(rows * A), b = new Float32Array(rows * B), labels = new Uint8Array(rows * 3);
    const tokens = Array.from({ length: rows }, () => rng.int(1000));
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < A; j++) a[r * A + j] = j === 7 ? 0 : j === 2 ? (rng.next() < 0.1 ? 1.5 : rng.normal() * 0.3) : Math.max(-0.2, rng.normal() + (j % 3 === 0 ? 0.2 : 0));
      for (let j = 0; j < B; j++) b[r * B + j] = j === 3 ? a[r * A + 5]! + 0.1 * rng.normal() : rng.normal();
      labels[r * 3] = a[r * A + 4]! > 0.5 ? 1 : 0;
      labels[r * 3 + 1] = rng.next() < 0.2 ? 1 : 0;
      labels[r * 3 + 2] = r === 0 ? 1 : 0;
    }
    w.appendSequence({ rows, seqIds: 1000 + s, positions: tokens.map((_, i) => i + 1), tokenIds: tokens, labels, values: [a, b], tokens: rows });
  }
  w.finish();
  run.finish();
}

function numpyReading(dir: string, hook: string, neurons: number[], top: number, bins: number): Record<string, {
  top_rows: number[]; top_values: number[]; contexts: { tokens: number[]; index: number }[]; edges: number[]; counts: number[];
  by_feature: Record<string, number[]>; active_frac: number; mean: number; std: number; max: number; min: number; n_active: number; corr: [string, number, number][];
}> {
  let out: string;
  try {
    out = execFileSync('/usr/bin/python3', [join(here, 'peers/neuron_evidence_numpy.py'), dir, hook, neurons.join(','), String(top), String(bins), '10', '4'], { encoding: 'utf8' });
  } catch (err) {
    throw new Error(`the numpy peer failed (needs Debian's python3-numpy: sudo .ci/system-deps): ${(err as Error).message}`);
  }
  return JSON.parse(out);
}

describe('neuron evidence', () => {
  for (const dtype of ['f32', 'f16', 'u8'] as const) {
    it(`${dtype}: top rows, contexts, histograms, moments and correlations equal numpy's reading`, async () => {
      const dir = join(tmp, dtype);
      writeStore(dir, dtype);
      const store = openActivationStore(dir);
      expect(store.manifest.chunks.length).toBeGreaterThan(3);
      const hook = 'blocks.0.mlp.hook_post', neurons = [2, 5, 7, 12], top = 15, bins = 20;
      const ev = await neuronEvidence(store, { hook, neurons, top, bins, quantiles: 4 });
      const ref = numpyReading(dir, hook, neurons, top, bins);
      for (const e of ev) {
        const r = ref[String(e.neuron)]!;
        expect(e.top.map((t) => t.row), `neuron ${e.neuron} top rows`).toEqual(r.top_rows);
        e.top.forEach((t, i) => expect(t.activation).toBe(Math.fround(r.top_values[i]!)));
        expect(e.top.map((t) => ({ tokens: t.tokens.map((x) => x.token_id), index: t.index }))).toEqual(r.contexts);
        expect(e.top.every((t) => t.tokens[t.index]!.token_id === t.token_id && t.tokens[t.index]!.text === `#${t.token_id}`)).toBe(true);
        expect(e.histogram.counts).toEqual(r.counts);
        expect(e.histogram.by_feature).toEqual(r.by_feature);
        e.histogram.edges.forEach((x, i) => expect(x).toBeCloseTo(r.edges[i]!, 12));
        expect(e.histogram.active_frac).toBeCloseTo(r.active_frac, 12);
        expect(e.histogram.mean).toBeCloseTo(r.mean, 9);
        expect(e.histogram.std).toBeCloseTo(r.std, 9);
        expect([e.histogram.min, e.histogram.max]).toEqual([r.min, r.max]);
        // Quantile groups: equal-count groups of the active values, examples inside their range.
        expect(e.quantiles.reduce((s, g) => s + g.count, 0)).toBe(r.n_active);
        for (const g of e.quantiles) for (const x of g.examples) expect(x.activation >= g.lo && x.activation <= g.hi).toBe(true);
        // Correlations: every value listed equals numpy's (float64 corrcoef) within 1e-6; none of numpy's
        // top 5 is missing beyond that tolerance.
        const byKey = new Map(r.corr.map(([h, j, v]) => [`${h}:${j}`, v]));
        if (e.neuron === 7) {
          expect(e.correlated).toEqual([]); // dead: zero variance, no correlation
          continue;
        }
        expect(e.correlated).toHaveLength(5);
        for (const c of e.correlated) expect(Math.abs(c.pearson - byKey.get(`${c.hook}:${c.neuron}`)!)).toBeLessThan(1e-6);
        expect(e.correlated[4]!.pearson).toBeGreaterThan(r.corr[4]![2] - 1e-6);
      }
      // The planted pair: b3 = a5 + noise is a5's most correlated neuron.
      expect(ev[1]!.correlated[0]).toMatchObject({ hook: 'blocks.1.mlp.hook_post', neuron: 3 });
      expect(ev[1]!.correlated[0]!.pearson).toBeGreaterThan(0.9);
      // Tied plateaus of neuron 2 (1.5 everywhere) come in row order.
      const plateau = ev[0]!.top.filter((t) => t.activation === ev[0]!.top[0]!.activation).map((t) => t.row);
      expect(plateau.length).toBeGreaterThan(2);
      expect(plateau).toEqual([...plateau].sort((x, y) => x - y));
    }, 30_000);
  }

  it('refuses a neuron past the width, an unknown hook and top 0, naming the flag', async () => {
    const store = openActivationStore(join(tmp, 'f32'));
    await expect(neuronEvidence(store, { hook: 'blocks.0.mlp.hook_post', neurons: [24] })).rejects.toThrow(/--neurons: neuron 24 is past blocks\.0\.mlp\.hook_post's width 24/);
    await expect(neuronEvidence(store, { hook: 'blocks.9.mlp.hook_post', neurons: [1] })).rejects.toThrow(/--hook 'blocks\.9\.mlp\.hook_post' is not in the store .*it holds: blocks\.0\.mlp\.hook_post, blocks\.1\.mlp\.hook_post/);
    await expect(neuronEvidence(store, { hook: 'blocks.0.mlp.hook_post', neurons: [1], top: 0 })).rejects.toThrow(/--top must be >= 1/);
  });
});

import { describe, expect, it } from 'vitest';
import { Rng } from '../../lab/core/index.ts';
import { allocBatch, sampleInto } from './data.ts';
import { denseWork, fillX, sampleX } from './dense.ts';
import { GemmArena, padTo } from './gemm.ts';
import { choosePath, lossAndGrad, workspace } from './kernels.ts';
import { initParams, layout, type ModelSpec } from './layout.ts';

function randomFill(f32: Float32Array, at: number, count: number, rng: Rng): void {
  for (let i = 0; i < count; i++) f32[at + i] = 2 * rng.next() - 1;
}

describe('gemm kernels', () => {
  it('nn (k-major A times B) matches a naive product on sizes off the block', () => {
    const rng = new Rng(5);
    for (const [M, N, K] of [[9, 13, 7], [4, 8, 1], [21, 37, 200], [5, 1024, 20]] as const) {
      const Mp = padTo(M, 4);
      const Np = padTo(N, 8);
      const ar = new GemmArena(K * Mp + K * Np + Mp * Np + 64);
      const a = ar.alloc(K * Mp);
      const b = ar.alloc(K * Np);
      const c = ar.alloc(Mp * Np);
      // Only the logical M x K and K x N entries are set; the padding stays zero, as the dense path keeps it.
      for (let k = 0; k < K; k++) {
        randomFill(ar.f32, a + k * Mp, M, rng);
        randomFill(ar.f32, b + k * Np, N, rng);
      }
      ar.f32.fill(7, c, c + Mp * Np); // overwritten, not accumulated
      ar.matmulKMajor(c, a, b, Mp, Np, K, Mp, Np, Np);
      let worst = 0;
      for (let i = 0; i < Mp; i++) {
        for (let j = 0; j < Np; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += ar.f32[a + k * Mp + i]! * ar.f32[b + k * Np + j]!;
          worst = Math.max(worst, Math.abs(s - ar.f32[c + i * Np + j]!));
          if (i >= M || j >= N) expect(ar.f32[c + i * Np + j]).toBe(0);
        }
      }
      expect(worst).toBeLessThan(1e-5 * K);
    }
  });

  it('dot (A B^T along the contiguous axis) matches a naive product on sizes off the block', () => {
    const rng = new Rng(6);
    for (const [M, N, K] of [[7, 3, 10], [4, 2, 4], [13, 5, 2051]] as const) {
      const Mp = padTo(M, 4);
      const Np = padTo(N, 2);
      const Kp = padTo(K, 4);
      const ar = new GemmArena(Mp * Kp + Np * Kp + Mp * Np + 64);
      const a = ar.alloc(Mp * Kp);
      const b = ar.alloc(Np * Kp);
      const c = ar.alloc(Mp * Np);
      for (let i = 0; i < M; i++) randomFill(ar.f32, a + i * Kp, K, rng);
      for (let j = 0; j < N; j++) randomFill(ar.f32, b + j * Kp, K, rng);
      ar.f32.fill(7, c, c + Mp * Np);
      ar.matmulDot(c, a, b, Mp, Np, Kp, Kp, Kp, Np);
      let worst = 0;
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += ar.f32[a + i * Kp + k]! * ar.f32[b + j * Kp + k]!;
          worst = Math.max(worst, Math.abs(s - ar.f32[c + i * Np + j]!));
        }
      }
      expect(worst).toBeLessThan(1e-6 * K);
    }
  });

  it('rejects unpadded sizes', () => {
    const ar = new GemmArena(1024);
    expect(() => ar.matmulKMajor(0, 0, 0, 5, 8, 3, 8, 8, 8)).toThrow(/not padded/);
    expect(() => ar.matmulDot(0, 0, 0, 4, 2, 6, 8, 8, 2)).toThrow(/not padded/);
  });
});

describe('dense path', () => {
  function setup(model: 'linear' | 'relu-out', n: number, m: number, p: number, rows: number, seed: number) {
    const spec: ModelSpec = { model, n, m, tied: false };
    const rng = new Rng(seed);
    const params = initParams(spec, rng);
    const L = layout(spec);
    for (let j = 0; j < n; j++) params[L.bOut + j] = 0.2 * rng.normal();
    const batch = allocBatch(rows, n, p);
    sampleInto(batch, p, false, rng);
    const imp = Float32Array.from({ length: n }, (_, i) => Math.pow(0.9, i));
    return { spec, params, batch, imp };
  }

  it('gives the rows path loss and gradient on sizes off every block (n, m, batch)', () => {
    for (const model of ['linear', 'relu-out'] as const) {
      for (const [n, m, rows, p] of [[13, 3, 37, 1], [13, 3, 37, 0.3], [7, 5, 9, 0.6], [30, 6, 64, 0.05]] as const) {
        const { spec, params, batch, imp } = setup(model, n, m, p, rows, n + rows);
        const g1 = new Float32Array(params.length);
        const g2 = new Float32Array(params.length);
        const l1 = lossAndGrad(workspace(spec, false), params, g1, batch, imp, 'rows');
        const ws = workspace(spec, false);
        // Twice on one workspace: the second call must not see the first's leftovers.
        lossAndGrad(ws, params, g2, batch, imp, 'dense');
        const l2 = lossAndGrad(ws, params, g2, batch, imp, 'dense');
        expect(l2).toBeCloseTo(l1, 5);
        for (let i = 0; i < g1.length; i++) expect(g2[i]).toBeCloseTo(g1[i]!, 5);
      }
    }
  });

  it('sampleX draws the same batch and leaves the stream where sampleInto does', () => {
    for (const [p, symmetric] of [[1, false], [0.5, true], [0.3, false], [0.03, false], [0.2, true]] as const) {
      const n = 11;
      const rows = 21;
      const spec: ModelSpec = { model: 'relu-out', n, m: 3, tied: false };
      const a = denseWork(spec, rows);
      const b = denseWork(spec, rows);
      const r1 = new Rng(9);
      const r2 = new Rng(9);
      for (let rep = 0; rep < 2; rep++) {
        const batch = allocBatch(rows, n, p);
        sampleInto(batch, p, symmetric, r1);
        fillX(a, n, batch);
        sampleX(b, n, p, symmetric, r2);
        const ld = 2 * a.bp;
        const X = a.GX + a.bp;
        let active = 0;
        for (let i = 0; i < n; i++) {
          for (let r = 0; r < rows; r++) {
            expect(b.arena.f32[X + i * ld + r]).toBe(a.arena.f32[X + i * ld + r]);
            if (a.arena.f32[X + i * ld + r] !== 0) active++;
          }
        }
        expect(active).toBe(batch.rowPtr[rows]);
        expect(r2.nextU32()).toBe(r1.nextU32());
      }
    }
  });

  it('is chosen for dense data, and gram for the sparse benchmark configs', () => {
    const spec = (n: number, m: number): ModelSpec => ({ model: 'relu-out', n, m, tied: false });
    expect(choosePath(spec(200, 20), 0.05, 1024)).toBe('gram');
    expect(choosePath(spec(20, 5), 0.05, 1024)).toBe('gram');
    expect(choosePath(spec(200, 20), 1, 1024)).toBe('dense');
    expect(choosePath(spec(20, 5), 1, 1024)).toBe('dense');
    expect(choosePath({ model: 'relu-hidden', n: 20, m: 5, tied: false }, 1, 1024)).toBe('rows');
  });
});

import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../lab/core/index.ts';
import { RunDir } from '../../lab/core/index.ts';
import { decodeChunk, encodeChunk, halfToFloatTable, openActivationStore, StoreWriter, toHalf, type StoreInit } from './index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'store-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('f16', () => {
  it('encodes exactly representable values exactly and rounds others to nearest', () => {
    const t = halfToFloatTable();
    for (const [v, bits] of [[1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [2 ** -24, 0x0001], [2 ** -14, 0x0400], [0.5, 0x3800], [0, 0]] as const) {
      expect(toHalf(v)).toBe(bits);
      expect(t[bits]).toBe(v);
    }
    expect(toHalf(1 + 2 ** -11)).toBe(0x3c00); // tie rounds to even
    expect(toHalf(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(toHalf(1e6)).toBe(0x7c00);
    const r = new Rng(1);
    let worst = 0;
    for (let i = 0; i < 20000; i++) {
      const v = (r.next() - 0.5) * 2 ** (r.int(30) - 15);
      const back = t[toHalf(v)]!;
      // Relative error <= 2^-11 for normals; absolute <= 2^-25 for subnormals.
      worst = Math.max(worst, Math.abs(back - v) / Math.max(Math.abs(v) * 2 ** -11, 2 ** -25));
    }
    expect(worst).toBeLessThanOrEqual(1);
    expect(worst).toBeGreaterThan(0.5);
  });
  it("encodeChunk's f16 bits are toHalf's for every exponent, tie and sign (its inlined fast path included)", () => {
    const r = new Rng(7);
    const vals: number[] = [0, -0, 2 ** -24, -(2 ** -25), 2 ** -14, 2 ** -14 * (1 - 2 ** -11), 65504, -65504, 65519, 1 + 2 ** -11, 1 + 3 * 2 ** -11, -(2 + 2 ** -10)];
    for (let i = 0; i < 50000; i++) {
      const m = r.next() < 0.1 ? 1 + (r.int(1024) + 0.5) / 1024 : 1 + r.next();
      vals.push((r.next() < 0.5 ? -1 : 1) * m * 2 ** (r.int(46) - 30));
    }
    const v = Float32Array.from(vals.filter((x) => Math.abs(Math.fround(x)) < 65520));
    const got = new Uint16Array(encodeChunk(v, v.length, 1, 'f16', 'none', 'x').data.buffer);
    let diff = 0;
    for (let i = 0; i < v.length; i++) if (got[i] !== toHalf(v[i]!)) diff++;
    expect(diff).toBe(0);
    expect(v.length).toBeGreaterThan(49000);
    expect(() => encodeChunk(Float32Array.of(1, 65520), 2, 1, 'f16', 'none', 'hook h')).toThrow(/hook h: value 65520 does not fit f16/);
  });
});

describe('u8 quantisation', () => {
  it('errs by at most half a step, per neuron and per tensor', () => {
    const rows = 50, n = 7;
    const r = new Rng(2);
    const v = Float32Array.from({ length: rows * n }, (_, i) => r.normal() * (1 + (i % n)) + (i % n) * 10);
    for (const quant of ['per_neuron', 'per_tensor'] as const) {
      const enc = encodeChunk(v, rows, n, 'u8', quant, 'x');
      expect(enc.qparams!.length).toBe(quant === 'per_neuron' ? 2 * n : 2);
      const out = new Float32Array(rows * n);
      decodeChunk(enc.data, rows, n, 'u8', enc.qparams, out);
      for (let i = 0; i < rows * n; i++) {
        const g = quant === 'per_neuron' ? i % n : 0;
        expect(Math.abs(out[i]! - v[i]!)).toBeLessThanOrEqual(enc.qparams![g]! / 2 + 1e-5);
      }
    }
  });
});

function init(over: Partial<StoreInit> = {}): StoreInit {
  return {
    config: { a: 1 },
    model: { source: 'test' },
    dataset: { name: 'test', level: 'token', features: ['f', 'g'], label_columns: ['f', 'g'] },
    seed: 0, aggregation: 'none', dtype: 'f32', quantisation: 'none',
    hooks: [{ name: 'h.0', n_neurons: 3, row_shape: [3] }, { name: 'h.1', n_neurons: 2, row_shape: [2] }],
    ...over,
  };
}

/** Sequence s has s % 4 + 1 rows; values are a closed form of (s, row, neuron) so reads can be checked. */
function writeSeqs(w: StoreWriter, from: number, to: number): void {
  for (let s = from; s < to; s++) {
    const n = (s % 4) + 1;
    const vals = [3, 2].map((d, h) => Float32Array.from({ length: n * d }, (_, i) => s * 100 + Math.floor(i / d) * 10 + (i % d) + h * 0.5));
    const labels = Uint8Array.from({ length: n * 2 }, (_, i) => ((s + i) % 3 === 0 ? 1 : 0));
    w.appendSequence({ rows: n, seqIds: s, positions: Int32Array.from({ length: n }, (_, r) => r + 1), tokenIds: Int32Array.from({ length: n }, (_, r) => s + r), labels, values: vals, tokens: n });
  }
}

function fresh(name: string, over: Partial<StoreInit> = {}, chunkRows = 6): StoreWriter {
  const dir = join(tmp, name);
  RunDir.begin(dir, { kind: 'harvest', seed: 0, config: {} });
  return StoreWriter.open(dir, init(over), { chunkRows });
}

function finishRun(w: StoreWriter): void {
  w.finish();
  new RunDir(w.dir, { kind: 'harvest', seed: 0, config: {} }).finish();
}

describe('store writer and reader', () => {
  it('round-trips values, ids and labels through chunks, ProbeData and an arquero table', () => {
    const w = fresh('roundtrip');
    writeSeqs(w, 0, 10);
    finishRun(w);
    const store = openActivationStore(w.dir);
    expect(store.hooks).toEqual(['h.0', 'h.1']);
    expect(store.features).toEqual(['f', 'g']);
    const m = store.manifest;
    const expectRows = Array.from({ length: 10 }, (_, s) => (s % 4) + 1).reduce((a, b) => a + b);
    expect(m.total_rows).toBe(expectRows);
    expect(m.chunks.length).toBeGreaterThan(2);
    // A chunk closes at the first sequence boundary at or past 6 rows; only the last may be shorter.
    for (const c of m.chunks.slice(0, -1)) expect(c.rows).toBeGreaterThanOrEqual(6);
    expect(m.chunks.reduce((a, c) => a + c.sequences, 0)).toBe(10);
    const pd = store.readProbeData('h.0');
    expect(pd.nNeurons).toBe(3);
    let row = 0;
    for (let s = 0; s < 10; s++) {
      for (let r = 0; r < (s % 4) + 1; r++, row++) {
        expect(pd.seqIds[row]).toBe(s);
        expect(pd.positions[row]).toBe(r + 1);
        for (let j = 0; j < 3; j++) expect(pd.X[row * 3 + j]).toBe(s * 100 + r * 10 + j);
        expect(pd.labels.f![row]).toBe((s + 2 * r) % 3 === 0 ? 1 : 0);
        expect(pd.labels.g![row]).toBe((s + 2 * r + 1) % 3 === 0 ? 1 : 0);
      }
    }
    const only = store.readProbeData('h.1', { features: ['g'] });
    expect(Object.keys(only.labels)).toEqual(['g']);
    expect(only.X[1]).toBe(1.5);
    let total = 0;
    for (const c of store.chunks('h.1')) {
      expect(c.values.length).toBe(c.rows * 2);
      expect(c.values[0]).toBe(c.seqIds[0]! * 100 + 0.5);
      total += c.rows;
    }
    expect(total).toBe(expectRows);
    const t = store.labelsTable();
    expect(t.columnNames()).toEqual(['seq_id', 'position', 'token_id', 'f', 'g']);
    expect(t.numRows()).toBe(expectRows);
    expect(Array.from(t.array('token_id') as ArrayLike<number>).slice(0, 4)).toEqual([0, 1, 2, 2]);
    expect(() => store.readProbeData('h.9')).toThrow(/hook 'h.9' is not in the store.*h\.0, h\.1/);
    expect(() => store.readProbeData('h.0', { features: ['nope'] })).toThrow(/feature 'nope'/);
  });

  it('reads f16 and u8 stores back within their precision', () => {
    for (const dtype of ['f16', 'u8'] as const) {
      const w = fresh(`q-${dtype}`, { dtype, quantisation: dtype === 'u8' ? 'per_tensor' : 'none' });
      writeSeqs(w, 0, 8);
      finishRun(w);
      const store = openActivationStore(w.dir);
      expect(store.manifest.quantisation).toBe(dtype === 'u8' ? 'per_tensor' : 'none');
      const pd = store.readProbeData('h.0');
      let row = 0;
      for (let s = 0; s < 8; s++) {
        for (let r = 0; r < (s % 4) + 1; r++, row++) {
          const v = s * 100 + r * 10;
          // f16 near 800 has a step of 0.5; u8 over one chunk's range (< 500) a step under 2.
          expect(Math.abs(pd.X[row * 3]! - v)).toBeLessThanOrEqual(dtype === 'f16' ? 0.25 : 1);
        }
      }
    }
  });

  it('resumes after a kill from the last listed chunk and removes unlisted files', () => {
    const w = fresh('resume');
    writeSeqs(w, 0, 7); // some chunks flushed, the rest buffered and lost with the "killed" process
    const listed = w.manifest.chunks.length;
    const seqsDone = w.manifest.total_sequences;
    expect(listed).toBeGreaterThan(0);
    expect(seqsDone).toBeLessThan(7);
    writeFileSync(join(w.dir, 'rows', '00099.i32'), 'junk from a killed run');
    expect(() => openActivationStore(w.dir)).toThrow(/partial run/);
    const partial = openActivationStore(w.dir, { allowPartial: true });
    expect(partial.manifest.chunks.length).toBe(listed);

    const again = StoreWriter.open(w.dir, init(), { chunkRows: 6 });
    expect(again.resumedSequences).toBe(seqsDone);
    expect(readdirSync(join(w.dir, 'rows'))).not.toContain('00099.i32');
    writeSeqs(again, seqsDone, 10);
    finishRun(again);
    const ref = fresh('resume-ref');
    writeSeqs(ref, 0, 10);
    finishRun(ref);
    const a = openActivationStore(w.dir).readProbeData('h.1');
    const b = openActivationStore(ref.dir).readProbeData('h.1');
    expect(a.X).toEqual(b.X);
    expect(a.seqIds).toEqual(b.seqIds);
    expect(a.labels).toEqual(b.labels);
  });

  it('refuses a different config unless told to overwrite, and then starts clean', () => {
    const w = fresh('refuse');
    writeSeqs(w, 0, 5);
    finishRun(w);
    expect(() => StoreWriter.open(w.dir, init({ config: { a: 2 } }), { chunkRows: 6 })).toThrow(/--out .* different config \(a: 1 -> 2\).*--overwrite/);
    const same = StoreWriter.open(w.dir, init(), { chunkRows: 6 });
    expect(same.complete).toBe(true);
    const over = StoreWriter.open(w.dir, init({ config: { a: 2 } }), { chunkRows: 6, overwrite: true });
    expect(over.resumedSequences).toBe(0);
    expect(readdirSync(w.dir).sort()).toEqual(['manifest.json', 'store.json']);
  });

  it('names the hook and row of a non-finite value, and a truncated chunk file', () => {
    const w = fresh('nan');
    const vals = [Float32Array.of(1, 2, NaN), Float32Array.of(0, 0)];
    expect(() => w.appendSequence({ rows: 1, seqIds: 42, positions: [7], labels: new Uint8Array(2), values: vals, tokens: 1 }))
      .toThrow(/non-finite activation \(NaN\) at hook h\.0, seq_id 42, position 7, neuron 2/);
    const ok = fresh('truncated');
    writeSeqs(ok, 0, 5);
    finishRun(ok);
    const file = join(ok.dir, ok.manifest.chunks[0]!.files.hooks['h.0']!.data);
    truncateSync(file, 10);
    expect(() => openActivationStore(ok.dir).readProbeData('h.0')).toThrow(new RegExp(`${file.replace(/\./g, '\\.')} has 10 bytes, expected \\d+`));
    expect(readFileSync(join(ok.dir, 'store.json'), 'utf8')).toContain('"complete": true');
  });
});

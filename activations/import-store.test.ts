import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { packagePath } from '../lab/core/index.ts';
import { importStore } from './import-store.ts';
import { RowReader } from './import-npy.ts';
import { openActivationStore } from './store/index.ts';

// The arrays come from numpy itself (activations/peers/write_arrays_numpy.py), which also reads them
// back in float64 (values.json): the independent reading the store is compared with.
const hasNumpy = (() => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const tmp = mkdtempSync(join(tmpdir(), 'import-store-test-'));
const arr = join(tmp, 'arrays');
let values: Record<string, number[]>;
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(() => {
  if (!hasNumpy) return;
  execFileSync('/usr/bin/python3', [packagePath('activations', 'peers', 'write_arrays_numpy.py'), arr]);
  values = JSON.parse(readFileSync(join(arr, 'values.json'), 'utf8'));
});
const a = (name: string) => join(arr, name);

describe.skipIf(!hasNumpy)('lab store import', () => {
  it('imports a [batch, pos, d] .npy a chunk at a time, equal to numpy\'s own reading, for f32, f16, f64 and format 2', async () => {
    for (const [file, key, tol] of [['tokens.npy', 'tokens', 0], ['tokens_f64.npy', 'tokens', 0], ['tokens_v2.npy', 'tokens', 0], ['tokens_f16.npy', 'tokens_f16', 0]] as const) {
      const out = join(tmp, `tok-${file}`);
      // 6 neurons x 4 bytes x 20 rows = 480 bytes a chunk; a chunk closes at the first sequence boundary at
      // or past 20 rows: 3 sequences of 8 rows, so 96 rows make 4 chunks.
      const r = await importStore({ activations: a(file), labels: a('labels_tokens.csv'), out, hooks: ['blocks.0.mlp.hook_post'], chunkMb: 480 / 2 ** 20, silent: true });
      expect(r.manifest.chunks.length).toBe(4);
      const store = openActivationStore(out);
      expect(store.manifest.dataset).toMatchObject({ level: 'token', features: ['n2_positive', 'even_position'] });
      const pd = store.readProbeData('blocks.0.mlp.hook_post');
      expect([pd.nRows, pd.nNeurons]).toEqual([96, 6]);
      let worst = 0;
      for (let i = 0; i < 96 * 6; i++) worst = Math.max(worst, Math.abs(pd.X[i]! - values[key]![i]!));
      expect(worst).toBeLessThanOrEqual(tol); // f64 -> f32 is exact here: the f64 file holds f32 values
      // Sequence = batch index, position = pos index, labels as written.
      expect([...pd.seqIds.slice(0, 10)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
      expect([...pd.positions.slice(6, 10)]).toEqual([6, 7, 0, 1]);
      for (let row = 0; row < 96; row++) expect(pd.labels.n2_positive![row]).toBe(values.tokens![row * 6 + 2]! > 0 ? 1 : 0);
      expect([...(store.labelsTable().array('token_id') as Int32Array).slice(0, 3)]).toEqual([0, 1, 2]);
    }
  });

  it('never reads more than about a chunk of rows at once', async () => {
    const orig = RowReader.prototype.read;
    const sizes: number[] = [];
    const spy = vi.spyOn(RowReader.prototype, 'read').mockImplementation(function (this: RowReader, r0: number, r1: number) {
      sizes.push(r1 - r0);
      return orig.call(this, r0, r1);
    });
    try {
      await importStore({ activations: a('tokens.npy'), labels: a('labels_tokens.csv'), out: join(tmp, 'bounded'), chunkMb: 480 / 2 ** 20, silent: true });
    } finally {
      spy.mockRestore();
    }
    expect(sizes.reduce((x, y) => x + y, 0)).toBe(96);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(20);
  });

  it('imports tensors of a safetensors cache by hook name, and one row per sequence with a seq-id column', async () => {
    const out = join(tmp, 'st');
    await importStore({ activations: a('cache.safetensors'), labels: a('labels_tokens.csv'), out, hooks: ['blocks.*.mlp.hook_post'], silent: true });
    const store = openActivationStore(out);
    expect(store.hooks).toEqual(['blocks.0.mlp.hook_post', 'blocks.1.mlp.hook_post']);
    const l1 = store.readProbeData('blocks.1.mlp.hook_post').X;
    expect(Array.from(l1)).toEqual(values.layer1!.map((v) => Math.fround(v)));
    const l0 = store.readProbeData('blocks.0.mlp.hook_post').X;
    expect(Array.from(l0)).toEqual(values.tokens!.map((v) => Math.fround(v)));
    // Without --hook every tensor is imported: the attention pattern has other rows, and the error says so.
    await expect(importStore({ activations: a('cache.safetensors'), labels: a('labels_tokens.csv'), out: join(tmp, 'st-all'), silent: true }))
      .rejects.toThrow(/cache\.safetensors: 'blocks\.1\.mlp\.hook_post'|'blocks\.0\.attn\.hook_pattern' has shape \[12,2,8,8\].*every hook must have the same rows/);
    expect(existsSync(join(tmp, 'st-all'))).toBe(false);

    const seq = join(tmp, 'seq');
    await importStore({ activations: a('seqs.npy'), labels: a('labels_seqs.jsonl'), out: seq, seqIdColumn: 'doc', features: ['first_positive'], silent: true });
    const s = openActivationStore(seq);
    expect(s.manifest).toMatchObject({ aggregation: 'mean', dataset: { level: 'sequence', features: ['first_positive'] }, total_sequences: 10 });
    const pd = s.readProbeData('seqs');
    expect([...pd.seqIds]).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
    expect(Array.from(pd.X)).toEqual(values.seqs!.map((v) => Math.fround(v)));
  });

  it('refuses bad input before writing anything, naming the file and the field', async () => {
    const out = join(tmp, 'bad');
    const short = join(tmp, 'short.csv');
    writeFileSync(short, 'n2_positive\n' + '1\n'.repeat(95));
    await expect(importStore({ activations: a('tokens.npy'), labels: short, out })).rejects.toThrow(/tokens\.npy has 96 rows \(batch 12 x pos 8\) but .*short\.csv has 95 label rows/);
    await expect(importStore({ activations: a('tokens.npy'), labels: a('labels_tokens.csv'), out, features: ['nope'] })).rejects.toThrow(/labels_tokens\.csv: label column 'nope' is missing/);
    await expect(importStore({ activations: a('seqs.npy'), labels: a('labels_seqs.jsonl'), out, seqIdColumn: 'doc' })).rejects.toThrow(/labels_seqs\.jsonl line 1: label column 'note' must be 0 or 1, got "x"/);
    await expect(importStore({ activations: a('seqs.npy'), labels: a('labels_seqs.jsonl'), out, seqIdColumn: 'id' })).rejects.toThrow(/sequence id column 'id' is missing/);
    const back = join(tmp, 'back.csv');
    writeFileSync(back, 'seq_id,f\n' + [0, 0, 1, 1, 0, 2, 2, 3, 3, 4].map((s) => `${s},1`).join('\n'));
    await expect(importStore({ activations: a('seqs.npy'), labels: back, out })).rejects.toThrow(/back\.csv line 6: sequence 0 appears again after other sequences/);
    await expect(importStore({ activations: a('fortran.npy'), labels: a('labels_seqs.jsonl'), out })).rejects.toThrow(/fortran\.npy is in Fortran order/);
    const junk = join(tmp, 'junk.npy');
    writeFileSync(junk, 'not numpy at all');
    await expect(importStore({ activations: junk, labels: short, out })).rejects.toThrow(/junk\.npy is not a \.npy file/);
    const cut = join(tmp, 'cut.npy');
    writeFileSync(cut, readFileSync(a('tokens.npy')).subarray(0, 1000));
    await expect(importStore({ activations: cut, labels: a('labels_tokens.csv'), out })).rejects.toThrow(/cut\.npy is truncated/);
    expect(existsSync(out)).toBe(false);
  });
});

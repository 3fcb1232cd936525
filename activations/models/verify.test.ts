/**
 * `lab verify` end to end on a reference saved the way a user saves one from PyTorch
 * (activations/peers/verify_torch.py: np.savez of input_ids, logits, hidden_states.N and hook arrays, and
 * a bare logits.npy), for the checkpoint activations/peers/parity-specs.ts VERIFY_SPEC rebuilds here.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packagePath } from '../../lab/core/index.ts';
import { runLab } from '../../lab/cli-test-support.ts';
import { VERIFY_SPEC } from '../peers/parity-specs.ts';
import { writeRandomCheckpoint } from './random-checkpoint.ts';

const tmp = mkdtempSync(join(tmpdir(), 'verify-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const ref = packagePath('activations', 'testdata', 'verify');

describe('lab verify', () => {
  it('certifies logits, hidden states and hooks within 1e-4, lists what it cannot compare, and exits 1 past a tolerance', async () => {
    const model = join(tmp, 'model');
    writeRandomCheckpoint(model, VERIFY_SPEC);
    const ok = await runLab('verify', '--model', model, '--against', join(ref, 'ref.npz'), '--json');
    expect(ok.code, ok.err).toBe(0);
    const r = JSON.parse(ok.out) as { ok: boolean; ids_from: string; rows: { key: string; hook: string; max_abs_error: number; max_abs_ref: number }[]; skipped: string[] };
    expect(r.ok).toBe(true);
    expect(r.ids_from).toBe('reference');
    const byKey = Object.fromEntries(r.rows.map((x) => [x.key, x]));
    expect(Object.keys(byKey).sort()).toEqual(['blocks.0.mlp.hook_post', 'hidden_states.0', 'hidden_states.1', 'hidden_states.2', 'logits']);
    expect(byKey['hidden_states.2']!.hook).toBe('ln_final.hook_normalized');
    expect(byKey['hidden_states.1']!.hook).toBe('blocks.1.hook_resid_pre');
    for (const x of r.rows) {
      expect(x.max_abs_error, x.key).toBeLessThanOrEqual(1e-4);
      expect(x.max_abs_ref, x.key).toBeGreaterThan(0.1); // not vacuous
    }
    expect(r.skipped).toEqual(['blocks.0.ln1.hook_scale']);
    // float32 against a float64 reference is not exact: a tolerance of 1e-9 fails, exit 1.
    const strict = await runLab('verify', '--model', model, '--against', join(ref, 'ref.npz'), '--tolerance', '1e-9');
    expect(strict.code).toBe(1);
    expect(strict.out).toMatch(/FAIL: \d+ of 5 arrays past 1e-9/);
    // A bare logits.npy: the lab tokenizes the fixed prompt itself.
    const bare = await runLab('verify', '--model', model, '--against', join(ref, 'logits.npy'));
    expect(bare.code, bare.err).toBe(0);
    expect(bare.out).toMatch(/ids from the prompt/);
    expect(bare.out).toMatch(/OK: every array within 0\.0001/);
  }, 120_000);

  it('names a missing --against, a reference it cannot read, and a reference for another model', async () => {
    const model = join(tmp, 'model');
    writeRandomCheckpoint(model, VERIFY_SPEC);
    expect((await runLab('verify', '--model', model)).err).toMatch(/--against/);
    const wrong = await runLab('verify', '--model', model, '--against', join(ref, 'case.txt'));
    expect(wrong.code).not.toBe(0);
    expect(wrong.err).toMatch(/expected a \.npz, \.safetensors or \.npy reference/);
    const other = join(tmp, 'other');
    writeRandomCheckpoint(other, { ...VERIFY_SPEC, contextLength: 64, seed: 1 });
    const far = await runLab('verify', '--model', other, '--against', join(ref, 'ref.npz'));
    expect(far.code).toBe(1);
  }, 120_000);
});

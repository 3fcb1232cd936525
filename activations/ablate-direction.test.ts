/**
 * Directional ablation against the float64 PyTorch peer (activations/peers/direction_torch.py) on the
 * neuron cases' tiny random checkpoints; the golden is committed (regenerate with the command in
 * activations/testdata/README.md). Plus the invariant that ties it to `lab ablate`: removing the basis
 * vector e_n in mean mode is the mean-ablation of neuron n.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../lab/core/backend.ts';
import { ablateNeurons } from './ablate.ts';
import { ablateDirection, hookBaseline } from './ablate-direction.ts';
import { loadModel } from './models/load.ts';
import { writeRandomCheckpoint } from './models/random-checkpoint.ts';
import { DIRECTION_CASES } from './peers/direction-specs.ts';
import { ABLATION_TEXT, NEURON_CASES } from './peers/neuron-specs.ts';
import type { LanguageModel } from './types.ts';

const here = dirname(fileURLToPath(import.meta.url));
interface GoldenCase {
  safetensors_sha256: string;
  hook: string;
  predicted: number;
  base_loss: number;
  zero_loss: number;
  mean_loss: number;
  fill: number;
}
const golden = JSON.parse(readFileSync(join(here, 'testdata/direction-golden.json'), 'utf8')) as { cases: Record<string, GoldenCase> };

const tmp = mkdtempSync(join(tmpdir(), 'ablate-direction-'));
const models = new Map<string, LanguageModel>();
beforeAll(async () => {
  await initBackend();
  for (const c of NEURON_CASES) {
    writeRandomCheckpoint(join(tmp, c.name), c.spec);
    models.set(c.name, await loadModel(join(tmp, c.name)));
  }
});
afterAll(() => {
  for (const m of models.values()) m.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe('ablateDirection against the float64 peer', () => {
  for (const c of DIRECTION_CASES) {
    it(`${c.name}: base, zero and mean loss within 1e-4 nats`, () => {
      const g = golden.cases[c.name]!;
      const sha = createHash('sha256').update(readFileSync(join(tmp, c.checkpoint.name, 'model.safetensors'))).digest('hex');
      expect(sha, 'checkpoint bytes drifted from the golden: regenerate it').toBe(g.safetensors_sha256);
      const model = models.get(c.checkpoint.name)!;
      const baseline = hookBaseline(model, ABLATION_TEXT, { hook: c.checkpoint.hook });
      expect(baseline.predicted).toBe(g.predicted);
      expect(Math.abs(baseline.base_loss - g.base_loss)).toBeLessThan(1e-4);
      const mean = ablateDirection(model, ABLATION_TEXT, { hook: c.checkpoint.hook, direction: c.direction, mode: 'mean', baseline });
      const zero = ablateDirection(model, ABLATION_TEXT, { hook: c.checkpoint.hook, direction: c.direction, mode: 'zero', baseline });
      expect(Math.abs(mean.fill - g.fill)).toBeLessThan(1e-5);
      expect(Math.abs(mean.ablated_loss - g.mean_loss)).toBeLessThan(1e-4);
      expect(Math.abs(zero.ablated_loss - g.zero_loss)).toBeLessThan(1e-4);
      // The change itself, which is what importance is, matches too, and is not within the tolerance of 0.
      expect(Math.abs(mean.delta_loss - (g.mean_loss - g.base_loss))).toBeLessThan(1e-4);
      expect(Math.abs(g.zero_loss - g.base_loss)).toBeGreaterThan(5e-3);
      expect(mean.delta_bits_per_byte).toBeCloseTo(mean.delta_loss * mean.predicted / Math.LN2 / mean.bytes, 12);
    });
  }
});

describe('ablateDirection and ablateNeurons agree', () => {
  it('removing e_n in mean mode is mean-ablating neuron n; the baseline feeds ablateNeurons too', () => {
    const c = NEURON_CASES[0]!;
    const model = models.get(c.name)!;
    const baseline = hookBaseline(model, ABLATION_TEXT, { hook: c.hook });
    for (const n of c.neurons) {
      const e = new Array<number>(baseline.width).fill(0);
      e[n] = 3; // any length: the direction is normalised
      const dir = ablateDirection(model, ABLATION_TEXT, { hook: c.hook, direction: e, mode: 'mean', baseline });
      const neu = ablateNeurons(model, ABLATION_TEXT, { hook: c.hook, neurons: [n], mode: 'mean' });
      const fast = ablateNeurons(model, ABLATION_TEXT, { hook: c.hook, neurons: [n], mode: 'mean', base: baseline.base_loss, hookMean: baseline.mean });
      expect(dir.fill).toBeCloseTo(neu.means![0]!, 5);
      expect(Math.abs(dir.ablated_loss - neu.ablated_loss)).toBeLessThan(1e-5);
      expect(Math.abs(fast.ablated_loss - neu.ablated_loss)).toBeLessThan(1e-6);
      expect(Math.abs(fast.base_loss - neu.base_loss)).toBeLessThan(1e-6);
    }
  });

  it('rejects a zero direction, a wrong width and a hook the model lacks, naming them', () => {
    const c = NEURON_CASES[0]!;
    const model = models.get(c.name)!;
    const baseline = hookBaseline(model, ABLATION_TEXT, { hook: c.hook });
    expect(() => ablateDirection(model, ABLATION_TEXT, { hook: c.hook, direction: new Array(baseline.width).fill(0), baseline })).toThrow(/zero/);
    expect(() => ablateDirection(model, ABLATION_TEXT, { hook: c.hook, direction: [1, 2, 3], baseline })).toThrow(/3 values.*blocks\.1\.mlp\.hook_post/);
    expect(() => hookBaseline(model, ABLATION_TEXT, { hook: 'blocks.9.mlp.hook_post' })).toThrow(/blocks\.9/);
  });
});

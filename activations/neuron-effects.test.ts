/**
 * Logit effects and `lab ablate` against the float64 PyTorch peer (activations/peers/neurons_torch.py)
 * on tiny random checkpoints this test rewrites from their seeds (activations/peers/neuron-specs.ts);
 * the golden is committed (regenerate with the command in activations/testdata/README.md).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLab } from '../lab/cli-test-support.ts';
import { writeRandomCheckpoint } from './models/random-checkpoint.ts';
import { neuronLogitEffects, neuronLogitVectors } from './neuron-effects.ts';
import { ABLATION_TEXT, NEURON_CASES } from './peers/neuron-specs.ts';

const here = dirname(fileURLToPath(import.meta.url));
interface GoldenCase {
  safetensors_sha256: string;
  hook: string;
  neurons: number[];
  predicted: number;
  base_loss: number;
  zero_loss: number;
  mean_loss: number;
  means: number[];
  logits: Record<string, number[]>;
}
const golden = JSON.parse(readFileSync(join(here, 'testdata/neurons-golden.json'), 'utf8')) as { cases: Record<string, GoldenCase> };

const tmp = mkdtempSync(join(tmpdir(), 'neuron-effects-'));
const textFile = join(tmp, 'text.txt');
beforeAll(() => {
  writeFileSync(textFile, ABLATION_TEXT);
  for (const c of NEURON_CASES) writeRandomCheckpoint(join(tmp, c.name), c.spec);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('neuron logit effects', () => {
  for (const c of NEURON_CASES) {
    it(`${c.name}: W_out[n] . W_U (LN-folded, centred) equals the float64 reference`, () => {
      const g = golden.cases[c.name]!;
      const sha = createHash('sha256').update(readFileSync(join(tmp, c.name, 'model.safetensors'))).digest('hex');
      expect(sha, 'checkpoint bytes drifted from the golden: regenerate it').toBe(g.safetensors_sha256);
      const vecs = neuronLogitVectors(join(tmp, c.name), c.hook, c.neurons);
      c.neurons.forEach((n, s) => {
        const want = g.logits[String(n)]!;
        expect(vecs[s]!.length).toBe(want.length);
        let err = 0, spread = 0;
        for (let v = 0; v < want.length; v++) {
          err = Math.max(err, Math.abs(vecs[s]![v]! - want[v]!));
          spread = Math.max(spread, Math.abs(want[v]!));
        }
        expect(err).toBeLessThan(1e-8);
        expect(spread).toBeGreaterThan(0.1);
      });
      // The top and bottom lists are the extremes of the same vectors.
      const [first] = neuronLogitEffects(join(tmp, c.name), c.hook, c.neurons.slice(0, 1), 10);
      const want = g.logits[String(c.neurons[0])]!;
      expect(first!.top[0]!.value).toBeCloseTo(Math.max(...want), 9);
      expect(first!.bottom[0]!.value).toBeCloseTo(Math.min(...want), 9);
      expect(first!.top.map((t) => t.value)).toEqual([...first!.top.map((t) => t.value)].sort((a, b) => b - a));
    });
  }

  it('refuses a hook that is not an MLP neuron and a neuron past the width', () => {
    const dir = join(tmp, 'gpt2');
    expect(() => neuronLogitVectors(dir, 'blocks.1.hook_resid_post', [0])).toThrow(/--hook 'blocks\.1\.hook_resid_post': logit effects are defined for MLP neurons/);
    expect(() => neuronLogitVectors(dir, 'blocks.2.mlp.hook_post', [0])).toThrow(/the model has 2 layers/);
    expect(() => neuronLogitVectors(dir, 'blocks.1.mlp.hook_post', [128])).toThrow(/--neurons: neuron 128 is past blocks\.1\.mlp\.hook_post's width 128/);
  });
});

describe('lab ablate', () => {
  for (const c of NEURON_CASES) {
    for (const mode of ['zero', 'mean'] as const) {
      it(`${c.name}, ${mode}: base and ablated loss within 1e-4 nats of the float64 reference`, async () => {
        const g = golden.cases[c.name]!;
        const r = await runLab('ablate', '--model', join(tmp, c.name), '--hook', c.hook, '--neurons', c.neurons.join(','), '--text-file', textFile, '--mode', mode, '--json');
        expect(r.code, r.err).toBe(0);
        const out = JSON.parse(r.out);
        const want = mode === 'zero' ? g.zero_loss : g.mean_loss;
        expect(out.predicted).toBe(g.predicted);
        expect(Math.abs(out.base_loss - g.base_loss)).toBeLessThan(1e-4);
        expect(Math.abs(out.ablated_loss - want)).toBeLessThan(1e-4);
        // Not vacuous: the ablation moves the loss by far more than the tolerance.
        expect(Math.abs(want - g.base_loss)).toBeGreaterThan(5e-4);
        expect(out.delta_loss).toBeCloseTo(out.ablated_loss - out.base_loss, 12);
        const bytes = Buffer.byteLength(ABLATION_TEXT);
        expect(out.delta_bits_per_byte).toBeCloseTo((out.delta_loss * out.predicted) / Math.LN2 / bytes, 10);
        if (mode === 'mean') out.means.forEach((m: number, i: number) => expect(Math.abs(m - g.means[i]!)).toBeLessThan(1e-5));
      }, 30_000);
    }
  }

  it('names the flag or file for bad input', async () => {
    const dir = join(tmp, 'gpt2');
    const run = (...a: string[]) => runLab('ablate', '--model', dir, '--text-file', textFile, ...a);
    const past = await run('--hook', 'blocks.1.mlp.hook_post', '--neurons', '128');
    expect([past.code, past.err]).toEqual([2, expect.stringMatching(/--neurons: neuron 128 is past blocks\.1\.mlp\.hook_post's width 128/)]);
    const hook = await run('--hook', 'blocks.7.mlp.hook_post', '--neurons', '1');
    expect([hook.code, hook.err]).toEqual([2, expect.stringMatching(/--hook 'blocks\.7\.mlp\.hook_post' matches no hook of this model/)]);
    const missing = await runLab('ablate', '--model', dir, '--hook', 'blocks.1.mlp.hook_post', '--neurons', '1', '--text-file', join(tmp, 'nope.txt'));
    expect([missing.code, missing.err]).toEqual([1, expect.stringMatching(/--text-file .*nope\.txt/)]);
    const mode = await run('--hook', 'blocks.1.mlp.hook_post', '--neurons', '1', '--mode', 'half');
    expect([mode.code, mode.err]).toEqual([2, expect.stringMatching(/--mode must be one of zero, mean/)]);
  }, 30_000);
});

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { Rng } from '../../lab/core/index.ts';
import { forward } from './kernels.ts';
import { flatFromNamed } from './layout.ts';
import { loadToyRun, sampleToyBatch, toyHidden } from './run.ts';
import { specOf } from './train.ts';
import { runLab } from '../../lab/cli-test-support.ts';

const root = join(import.meta.dirname, '..', '..');

function lab(args: string[]) {
  return spawnSync(process.execPath, [join(root, 'bin', 'lab.mjs'), ...args], { encoding: 'utf8', cwd: root, env: { ...process.env, LAB_BACKEND: 'cpu' } });
}

describe('lab toy train', () => {
  const dir = mkdtempSync(join(tmpdir(), 'toy-run-'));
  const out = join(dir, 'hidden');

  it('prints the --json object and writes a run directory that loadToyRun reads back', () => {
    const res = lab(['toy', 'train', '--model', 'relu-hidden', '--features', '6', '--hidden', '3', '--instances', '2', '--feature-prob', '0.5:0.1',
      '--importance-decay', '0.9', '--steps', '50', '--batch', '64', '--seed', '1', '--engine', 'js', '--out', out, '--json']);
    expect(res.status, res.stderr).toBe(0);
    const j = JSON.parse(res.stdout);
    expect(j.config).toMatchObject({ model: 'relu-hidden', features: 6, hidden: 3, instances: 2, feature_prob: [0.5, 0.1], seed: 1 });
    expect(j.instances).toHaveLength(2);
    const inst = j.instances[1];
    for (const key of ['feature_prob', 'loss', 'W', 'b', 'norms', 'dimensionality', 'capacity', 'total_capacity', 'dims_per_feature', 'W1', 'W2', 'neurons']) {
      expect(inst, key).toHaveProperty(key);
    }
    expect(inst.feature_prob).toBeCloseTo(0.1, 12);
    expect(inst.W).toHaveLength(6);
    expect(inst.neurons[0]).toHaveProperty('label');

    expect(readdirSync(out).sort()).toEqual(['instances.csv', 'instances.json', 'manifest.json', 'neurons.csv']);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ kind: 'toy', status: 'complete', seed: 1 });
    expect(JSON.parse(readFileSync(join(out, 'instances.json'), 'utf8'))).toEqual(j.instances);
    const csv = readFileSync(join(out, 'instances.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('instance,feature_prob,feature,importance,norm,interference,dimensionality,capacity');
    expect(csv).toHaveLength(1 + 2 * 6);
    expect(readFileSync(join(out, 'neurons.csv'), 'utf8').split('\n')[0]).toBe('instance,neuron,label,features,max_share');

    const run = loadToyRun(out);
    expect(run.instances[0]!.W1).toEqual(j.instances[0].W1);
    const { x, active } = sampleToyBatch(run, 1, 200, new Rng(3));
    expect(x).toHaveLength(200 * 6);
    let on = 0;
    active.forEach((a, i) => {
      on += a;
      expect(a === 1).toBe(x[i] !== 0);
    });
    expect(on / x.length).toBeGreaterThan(0.03);
    expect(on / x.length).toBeLessThan(0.2);
    const h = toyHidden(run, 1, x, 200);
    expect(h.hook).toBe('hook_neurons');
    expect(h.width).toBe(3);
    // Recompute the neurons by hand from W1 and b1.
    const W1 = j.instances[1].W1 as number[][];
    const b1 = j.instances[1].b1 as number[];
    for (let r = 0; r < 5; r++) {
      for (let k = 0; k < 3; k++) {
        let s = b1[k]!;
        for (let i = 0; i < 6; i++) s += W1[k]![i]! * x[r * 6 + i]!;
        expect(h.values[r * 3 + k]).toBeCloseTo(Math.max(0, s), 5);
      }
    }
  });

  it('linear/relu-out runs expose hook_hidden = W^T x', async () => {
    const o = join(dir, 'lin');
    const { code, out: printed } = await runLab('toy', 'train', '--model', 'relu-out', '--features', '5', '--hidden', '2', '--steps', '20', '--batch', '32', '--engine', 'js', '--quiet', '--out', o);
    expect(code).toBe(0);
    expect(printed).toMatch(/total_capacity/);
    expect(existsSync(join(o, 'neurons.csv'))).toBe(false);
    const run = loadToyRun(o);
    const x = Float32Array.from([1, 0, 0, 0.5, 0]);
    const h = toyHidden(run, 0, x, 1);
    expect(h.hook).toBe('hook_hidden');
    const W = run.instances[0]!.W;
    expect(h.values[1]).toBeCloseTo(W[0]![1]! + 0.5 * W[3]![1]!, 6);
    const out = new Float32Array(5);
    forward(specOf(run.config), flatFromNamed(specOf(run.config), run.instances[0]!), x, 1, out);
    expect(out.every((v) => v >= 0)).toBe(true);
  });

  it('bad input: a clear error naming the flag and a non-zero exit, nothing written', async () => {
    const { main } = await import('../../lab/cli.ts');
    const cases: [string[], RegExp][] = [
      [['--features', '0'], /--features/],
      [['--feature-prob', '1.5'], /--feature-prob/],
      [['--feature-prob', '1:0'], /--feature-prob/],
      [['--lr', 'abc'], /--lr/],
      [['--steps', '2.5'], /--steps/],
      [['--lr', '1e30', '--steps', '50'], /--lr/],
    ];
    for (const [args, re] of cases) {
      const o = join(dir, 'bad');
      const written: string[] = [];
      const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
        written.push(String(chunk));
        return true;
      });
      let code: number;
      try {
        code = await main(['toy', 'train', '--features', '5', '--hidden', '2', '--batch', '16', '--steps', '5', '--engine', 'js', '--quiet', ...args, '--out', o]);
      } finally {
        spy.mockRestore();
      }
      expect(code, args.join(' ')).not.toBe(0);
      expect(written.join('')).toMatch(re);
      expect(existsSync(o)).toBe(false);
    }
  });
});

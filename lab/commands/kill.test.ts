/**
 * Kill test (issue 19): toy train, harvest, probe, lm train and report are SIGKILLed at seeded random
 * moments and rerun; every rerun's files must equal an uninterrupted run's byte for byte (manifest.json
 * compared without its timestamps, timings and resume counts; lm train's history.csv without its seconds
 * columns). lm train does not resume: a killed run leaves `<out>.partial`, which the rerun starts over, so
 * this also checks that a run whose budget does not bind is the same run every time. Real child processes,
 * since a kill in-process proves nothing.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng, packagePath } from '../core/index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kill-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const BIN = packagePath('bin', 'lab.mjs');

/** Runs `lab ...`; with killAfterMs, SIGKILLs it then (if still running). Resolves to the exit code or the signal. */
function lab(args: string[], killAfterMs?: number): Promise<string> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    const t = killAfterMs === undefined ? undefined : setTimeout(() => p.kill('SIGKILL'), killAfterMs);
    p.on('exit', (code, sig) => {
      if (t) clearTimeout(t);
      res(sig ?? (code === 0 ? '0' : `${code}: ${err.slice(-300)}`));
    });
  });
}

function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (e === 'manifest.json') {
        // What differs by design: when it ran, how long, and how much of it a resume found done.
        const { created: _c, timings: _t, command: _cmd, units: _u, resumed_from_chunk: _r, ...m } = JSON.parse(readFileSync(p, 'utf8'));
        out.set(relative(dir, p), JSON.stringify(m));
      } else if (e === 'history.csv') {
        // lm train's per-step log: step, lr, losses are the run's; the wall and CPU seconds are the machine's.
        out.set(relative(dir, p), readFileSync(p, 'utf8').split('\n').map((l) => l.split(',').slice(0, 4).join(',')).join('\n'));
      } else out.set(relative(dir, p), readFileSync(p).toString('base64'));
    }
  };
  walk(dir);
  return out;
}

describe('killed at random points, every rerun equals the uninterrupted run', () => {
  it('toy train, harvest, probe, lm train and report', async () => {
    const rng = new Rng(Number(process.env.LAB_KILL_SEED ?? 19));
    const kb = join(tmp, 'kb.jsonl');
    expect(await lab(['facts', 'make', '--subjects', '4', '--relations', '2', '--seed', '0', '--out', kb])).toBe('0');
    const jobs: Array<[string, (out: string) => string[]]> = [
      ['toy', (out) => ['toy', 'train', '--model', 'relu-hidden', '--features', '4', '--hidden', '3', '--steps', '300', '--engine', 'js', '--quiet', '--out', out]],
      ['harvest', (out) => ['harvest', '--model', `toy:${join(tmp, 'toy-ref')}`, '--max-tokens', '6000', '--batch', '700', '--chunk-mb', '0.01', '--quiet', '--out', out]],
      ['probe', (out) => ['probe', '--activations', join(tmp, 'harvest-ref'), '--methods', 'mean_dif', '--k', '1,2', '--threads', '1', '--quiet', '--out', out]],
      ['lm', (out) => ['lm', 'train', '--corpus', 'facts', '--kb', kb, '--copies', '5', '--layers', '1', '--d-model', '16', '--heads', '2', '--context', '32',
        '--steps', '60', '--batch', '4', '--threads', '1', '--eval-every', '0', '--out', out]],
      ['report', (out) => ['report', join(tmp, 'toy-ref'), join(tmp, 'probe-ref'), '--quiet', '--out', join(out, 'report.html')]],
    ];
    for (const [name, args] of jobs) {
      const ref = join(tmp, `${name}-ref`);
      const t0 = performance.now();
      expect(await lab(args(ref)), `${name} reference`).toBe('0');
      const took = performance.now() - t0;
      const out = join(tmp, `${name}-killed`);
      // Somewhere between start-up and the end of a whole run.
      const when = Math.floor(took * (0.3 + 0.7 * rng.next()));
      const first = await lab(args(out), when);
      expect(await lab(args(out)), `${name} rerun after a kill at ${when} ms (${first})`).toBe('0');
      expect(existsSync(join(out, '.lock'))).toBe(false);
      const a = files(ref), b = files(out);
      expect([...b.keys()].sort(), `${name}: the same files`).toEqual([...a.keys()].sort());
      for (const [k, v] of a) expect(b.get(k) === v, `${name}: ${k} differs after a kill at ${when} ms`).toBe(true);
    }
  }, 400_000);
});

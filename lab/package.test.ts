/**
 * The lab as a package another project installs: `npm pack` of this checkout, installed into an empty
 * folder from the npm registry (the cache `npm ci` filled, where it has the files), then used there the way a
 * user would: the `lab` bin, a short run, and a TypeScript file importing the faces, type-checked both with
 * Node's own module resolution and with the older `node10` resolution that tslab's compiler uses.
 * The install takes about a minute; everything else a few seconds.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module of the build scripts, without declarations
import { buildState } from '../bin/build-state.mjs';

const run = promisify(execFile);
const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
let tmp: string;
let app: string;

beforeAll(async () => {
  // vitest's global setup (bin/test-setup.mjs) built dist/ if the sources had moved on.
  expect(buildState(repo)).toBe('fresh');
  tmp = mkdtempSync(join(tmpdir(), 'lab-package-'));
  // The build is fresh, so pack without running prepare again.
  await run('npm', ['pack', '--ignore-scripts', '--pack-destination', tmp], { cwd: repo, timeout: 120_000 });
  const tarball = readdirSync(tmp).find((f) => f.endsWith('.tgz'))!;
  app = join(tmp, 'app');
  await run('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
  await run('npm', ['install', join(tmp, tarball), '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app, timeout: 400_000 });
}, 600_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('the packed lab, installed into an empty project', () => {
  it('installs with its arquero dependency resolved to flechette 2.6.0, and without tsx', async () => {
    // npm ls exits non-zero on any missing or invalid dependency in the tree.
    const { stdout } = await run('npm', ['ls', '--all'], { cwd: app });
    expect(stdout).toMatch(/neuronlab@/);
    const flechette = JSON.parse(readFileSync(join(app, 'node_modules', '@uwdata', 'flechette', 'package.json'), 'utf8')) as { version: string };
    expect(flechette.version).toBe('2.6.0');
    expect(existsSync(join(app, 'node_modules', 'neuronlab', 'dist', 'lab', 'cli.js'))).toBe(true);
    // The compiled package runs without the TypeScript runner the repository develops with.
    expect(existsSync(join(app, 'node_modules', 'tsx'))).toBe(false);
    expect(existsSync(join(app, 'node_modules', 'neuronlab', 'lab', 'cli.ts'))).toBe(false);
  });

  it('the lab bin answers --help and a usage error, and trains a toy model', async () => {
    const lab = join(app, 'node_modules', '.bin', 'lab');
    const help = await run(lab, ['--help'], { cwd: app });
    expect(help.stdout).toMatch(/usage: lab <command>/);
    expect(help.stdout).toMatch(/\bprobe\b.*k-sparse probes/);
    await expect(run(lab, ['toy', 'train', '--bogus'], { cwd: app })).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown flag --bogus/) });
    const out = join(app, 'runs', 'toy');
    const r = await run(lab, ['toy', 'train', '--model', 'relu-out', '--features', '5', '--hidden', '2', '--instances', '2', '--steps', '100', '--out', out, '--json'], { cwd: app, timeout: 120_000 });
    expect(JSON.parse(r.stdout).config).toMatchObject({ features: 5, hidden: 2, steps: 100 });
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'))).toMatchObject({ kind: 'toy', status: 'complete' });
  }, 180_000);

  it('a TypeScript file importing the faces type-checks, with NodeNext and with node10 resolution', async () => {
    writeFileSync(join(app, 'check.ts'), [
      "import { loadRun, chartsFor, renderSvg, probes, type LoadedRun } from 'neuronlab';",
      "import { trainToy, type ToyConfig } from 'neuronlab/toy';",
      "import { runSweep, type SweepConfig } from 'neuronlab/probes';",
      "import { openActivationStore } from 'neuronlab/activations';",
      "import { initBackend } from 'neuronlab/backend';",
      'export async function main(dir: string): Promise<number> {',
      '  await initBackend();',
      '  const run: LoadedRun = loadRun(dir);',
      '  const svgs: string[] = await Promise.all(chartsFor(run).map((c) => renderSvg(c.spec)));',
      "  const cfg: Partial<ToyConfig> = { features: 5, hidden: 2 };",
      '  const sweep: Partial<SweepConfig> = { ks: [1, 2] };',
      '  void [trainToy, runSweep, openActivationStore, probes.labEngine, cfg, sweep];',
      '  return svgs.length;',
      '}',
      '// A wrong type must fail: this line is what makes the check able to fail.',
      "export const wrong: number = loadRun('x').name;",
    ].join('\n'));
    for (const resolution of [['--module', 'NodeNext', '--moduleResolution', 'NodeNext'], ['--module', 'commonjs', '--moduleResolution', 'node10']]) {
      const args = [tsc, '--noEmit', '--strict', '--skipLibCheck', '--target', 'ES2022', ...resolution, 'check.ts'];
      const res = await run(process.execPath, args, { cwd: app }).then(() => '', (e: { stdout: string }) => e.stdout);
      // The only error is the deliberate one: every import resolved, with its types.
      expect(res.trim().split('\n')).toEqual([expect.stringMatching(/check\.ts\(16,14\): error TS2322: Type 'string' is not assignable to type 'number'/)]);
    }
  }, 120_000);
});

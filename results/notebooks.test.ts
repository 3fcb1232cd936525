/**
 * Executes both notebooks (notebooks/*.ipynb) headless with the tslab kernel, as a user's `jupyter nbconvert --execute`
 * would, and checks that their outputs hold the charts as SVG. The kernel spec is installed into a
 * temporary prefix (not the user's Jupyter), pointing at this checkout's tslab.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseXml, markItems } from './svg-check.ts';
import { writeAllFixtures } from './test-fixtures.ts';
// @ts-expect-error: a plain ES module of the build scripts, without declarations
import { buildState } from '../bin/build-state.mjs';

const run = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const here = join(repo, 'notebooks');
const JUPYTER = '/usr/bin/jupyter';
const PYTHON = '/usr/bin/python3';

interface Output {
  output_type: string;
  data?: Record<string, string | string[]>;
  name?: string;
  text?: string | string[];
}
interface Notebook {
  cells: { cell_type: string; outputs?: Output[] }[];
}

let tmp: string;
let env: NodeJS.ProcessEnv;

function joined(v: string | string[] | undefined): string {
  return Array.isArray(v) ? v.join('') : (v ?? '');
}

function svgOutputs(nb: Notebook): string[] {
  return nb.cells.flatMap((c) => c.outputs ?? []).filter((o) => o.data?.['image/svg+xml']).map((o) => joined(o.data!['image/svg+xml']));
}

async function execute(name: string, extraEnv: Record<string, string>): Promise<Notebook> {
  await run(
    JUPYTER,
    ['nbconvert', '--to', 'notebook', '--execute', join(here, name), '--output-dir', tmp, '--ExecutePreprocessor.timeout=150', '--ExecutePreprocessor.kernel_name=tslab'],
    { cwd: repo, env: { ...env, ...extraEnv }, timeout: 170_000 },
  );
  return JSON.parse(readFileSync(join(tmp, name), 'utf8')) as Notebook;
}

let dashboard: Promise<Notebook>;
let toyModel: Promise<Notebook>;

beforeAll(async () => {
  for (const [path, what] of [[JUPYTER, 'jupyter-notebook and jupyter-nbconvert'], [PYTHON, 'python3']] as const) {
    if (!existsSync(path)) throw new Error(`${path} is missing: install Debian's ${what} (run .ci/system-deps as root)`);
  }
  // The notebooks import the compiled package (`from 'neuronlab'`), which vitest's global setup built.
  expect(buildState(repo)).toBe('fresh');
  tmp = mkdtempSync(join(tmpdir(), 'notebooks-'));
  const prefix = join(tmp, 'jupyter');
  env = {
    ...process.env,
    JUPYTER_PATH: join(prefix, 'share', 'jupyter'),
    JUPYTER_RUNTIME_DIR: join(tmp, 'runtime'),
    JUPYTER_CONFIG_DIR: join(tmp, 'config'),
    JUPYTER_DATA_DIR: join(tmp, 'data'),
    PYDEVD_DISABLE_FILE_VALIDATION: '1',
  };
  // tslab's installer, as the README tells users, but into a throwaway prefix.
  const tslab = join(repo, 'node_modules', '.bin', 'tslab');
  await run(process.execPath, [join(repo, 'node_modules', 'tslab', 'bin', 'tslab'), 'install', `--python=${PYTHON}`, `--binary=${tslab}`, `--prefix=${prefix}`], { env });
  const kernels = (await run(JUPYTER, ['kernelspec', 'list', '--json'], { env })).stdout;
  expect(JSON.parse(kernels).kernelspecs.tslab).toBeDefined();
  const dirs = writeAllFixtures(join(tmp, 'runs'));
  // Both at once: each waits mostly on its own kernel.
  dashboard = execute('dashboard.ipynb', { LAB_RUNS: Object.values(dirs).join(',') });
  toyModel = execute('toy-model.ipynb', { LAB_TOY_STEPS: '300' });
  await Promise.allSettled([dashboard, toyModel]);
}, 200_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('notebooks run headless with the tslab kernel', () => {
  it('dashboard.ipynb shows every chart of the runs it loads, as SVG', async () => {
    const nb = await dashboard;
    const svgs = svgOutputs(nb);
    // The same 18 charts as `lab report` on the same six fixture runs (results/report.test.ts).
    expect(svgs).toHaveLength(18);
    for (const s of svgs) expect(parseXml(s).tag).toBe('svg');
    const dims = svgs.find((s) => s.includes('sticky_guides_marks'))!;
    expect(markItems(parseXml(dims), 'sticky_guides')).toHaveLength(6);
    const html = nb.cells.flatMap((c) => c.outputs ?? []).map((o) => joined(o.data?.['text/html'])).join('');
    expect(html).toContain('harvest_features');
  });

  it('toy-model.ipynb trains five instances and plots their geometry, dimensionality and capacity', async () => {
    const nb = await toyModel;
    const svgs = svgOutputs(nb);
    expect(svgs).toHaveLength(3);
    const roots = svgs.map((s) => parseXml(s));
    expect(markItems(roots[0]!, 'feature_arrows')).toHaveLength(25);
    expect(markItems(roots[1]!, 'feature_dims')).toHaveLength(25);
    expect(markItems(roots[2]!, 'capacity_points')).toHaveLength(25);
    const text = nb.cells.flatMap((c) => c.outputs ?? []).filter((o) => o.output_type === 'stream').map((o) => joined(o.text)).join('');
    expect(text.match(/^instance \d: p = /gm)).toHaveLength(5);
  });
});

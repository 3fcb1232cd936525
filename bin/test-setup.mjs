// vitest's global setup: the notebook and package tests run the compiled package (dist/), so build it
// once, before any test file starts, when the sources are newer than the build. `npm ci` has already
// built it on a fresh clone, so there this returns at once.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildState, ensureSelfLink } from './build-state.mjs';

/** The test files that run dist/; a `vitest run FILTER...` that selects none of them builds nothing. */
const NEEDS_BUILD = ['results/notebooks.test.ts', 'lab/package.test.ts'];

export default function setup() {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const filters = process.argv.slice(2).filter((a) => !a.startsWith('-') && a !== 'run' && !a.endsWith('vitest.mjs'));
  if (filters.length > 0 && !NEEDS_BUILD.some((f) => filters.some((x) => f.includes(x)))) return;
  ensureSelfLink(root);
  const state = buildState(root);
  if (state === 'fresh') return;
  process.stderr.write(`test setup: dist/ is ${state}; building it (npm run build)\n`);
  execFileSync(process.execPath, [join(root, 'bin', 'build.mjs')], { cwd: root, stdio: 'inherit' });
}

// Whether dist/ (the compiled package) is older than the TypeScript sources it was built from. Used by
// bin/lab.mjs (run the sources instead of a stale build) and by the tests that run the compiled package.
import { existsSync, lstatSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

export const SOURCE_DIRS = ['lab', 'activations', 'probes', 'results'];

/** The newest modification time of the non-test TypeScript sources below `dir` (0 where there are none). */
function newestSource(dir) {
  let newest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    if (e.name === 'node_modules' || e.name === 'default-model' || e.name === 'testdata') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** 'missing' (no build), 'stale' (a source is newer than the build), or 'fresh'. */
export function buildState(root) {
  const stamp = join(root, 'dist', '.build-stamp');
  if (!existsSync(stamp)) return 'missing';
  const built = statSync(stamp).mtimeMs;
  return SOURCE_DIRS.some((d) => newestSource(join(root, d)) > built) ? 'stale' : 'fresh';
}

/**
 * In a development checkout, node_modules/neuronlab -> .. (as npm does for a workspace), so the notebooks
 * and any script in the repository import the package by name, exactly as a project that depends on it.
 * npm prunes the link on every install, so the build and the test setup both put it back.
 */
export function ensureSelfLink(root) {
  if (!existsSync(join(root, 'node_modules')) || root.split(/[\\/]/).includes('node_modules')) return;
  const self = join(root, 'node_modules', 'neuronlab');
  try {
    lstatSync(self);
    return;
  } catch {
    symlinkSync('..', self, 'dir');
  }
}

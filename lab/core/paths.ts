/**
 * Where the package's own files are. The same code runs from the TypeScript sources (tests, tsx) and from
 * the compiled `dist/` tree (the installed package), so a path relative to a module's own URL would differ
 * between the two; the package root (the folder holding neuronlab's package.json) does not.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The folder holding this package's package.json (searched upwards from this module). */
export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'neuronlab') return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error(`neuronlab's package.json not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** A path inside the package: `packagePath('lab', 'lm', 'default-model')`. */
export function packagePath(...parts: string[]): string {
  return join(packageRoot(), ...parts);
}

#!/usr/bin/env node
// The `lab` command. Runs the compiled package (dist/lab/cli.js, built by `npm run build`, which `npm ci`
// runs through the prepare script). In a development checkout whose TypeScript sources are newer than the
// build, or before any build, or with LAB_SOURCE=1, it runs the sources through tsx instead, so an edit is
// never run stale.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildState } from './build-state.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sources = existsSync(join(root, 'lab', 'cli.ts')) && (process.env.LAB_SOURCE === '1' || buildState(root) !== 'fresh');
let main;
if (sources) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(pathToFileURL(join(root, 'lab', 'cli.ts')).href));
} else {
  ({ main } = await import(pathToFileURL(join(root, 'dist', 'lab', 'cli.js')).href));
}
process.exitCode = await main(process.argv.slice(2));

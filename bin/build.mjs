#!/usr/bin/env node
// `npm run build` (and `npm ci`, through the prepare script): compiles the lab to dist/ with declaration
// files (tsc -p tsconfig.build.json), bundles tfjs-core's gradient registrations as CommonJS
// (dist/vendor/tfjs-gradients.cjs: the file tfjs ships is ESM with extensionless imports, which Node's
// resolver rejects), and stamps the build so bin/lab.mjs can tell a stale dist/ from a fresh one.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { ensureSelfLink } from './build-state.mjs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const t0 = Date.now();
rmSync(join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
const esbuild = await import('esbuild');
mkdirSync(join(root, 'dist', 'vendor'), { recursive: true });
await esbuild.build({
  entryPoints: [require.resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js')],
  bundle: true,
  format: 'cjs',
  platform: 'node',
  outfile: join(root, 'dist', 'vendor', 'tfjs-gradients.cjs'),
  logLevel: 'warning',
  legalComments: 'inline',
});
writeFileSync(join(root, 'dist', '.build-stamp'), new Date().toISOString() + '\n');
ensureSelfLink(root);
process.stderr.write(`build: dist/ in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);

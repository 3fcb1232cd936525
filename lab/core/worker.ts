/**
 * Worker threads for the lab's pools (toy engine, probe units, forward passes, LM gradients): the one
 * place that knows how a worker module starts. From the TypeScript sources (tests, tsx) the worker first
 * registers tsx, which costs about half a second; from the compiled package (`dist/`) the `.ts` file is not
 * there and its compiled `.js` sibling starts directly.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** The module a worker runs: `url` itself when it exists, else its compiled `.js` sibling. */
export function workerModule(url: URL): URL {
  if (existsSync(fileURLToPath(url))) return url;
  const js = new URL(url.href.replace(/\.ts$/, '.js'));
  if (!existsSync(fileURLToPath(js))) throw new Error(`worker module ${fileURLToPath(url)} is missing (and so is its compiled .js)`);
  return js;
}

let tsxApi: string | undefined;

/**
 * Starts a worker thread on `url` with `workerData` (`transferList`: buffers in it moved, not copied). Callers pass a URL of the worker's `.ts` file built
 * from their own import.meta.url, written out in full, so that the architecture test sees the edge.
 */
export function startWorker(url: URL, workerData: unknown, transferList: ArrayBuffer[] = []): Worker {
  const mod = workerModule(url);
  if (!mod.pathname.endsWith('.ts')) return new Worker(mod, { workerData, transferList });
  tsxApi ??= pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
  const code = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(mod.href)}); })`;
  return new Worker(code, { eval: true, workerData, transferList });
}

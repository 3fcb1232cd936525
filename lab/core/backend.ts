/**
 * The one place that picks the tfjs backend. Everything else imports `tf` from here and calls
 * `initBackend()` once before its first op.
 *
 * Order: node-gpu, node, wasm, cpu. `--backend NAME` or LAB_BACKEND=NAME forces one, and a forced
 * backend that cannot start is an error rather than a silent fallback. `@tensorflow/tfjs-node-gpu`
 * and `@tensorflow/tfjs-node` are optional: their install scripts download libtensorflow, which
 * fails on machines without network access, so the lab never lists them as dependencies and
 * detects them at run time.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { LabError, UsageError } from './errors.ts';

export { tf };

export const BACKENDS = ['node-gpu', 'node', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface BackendReport {
  active: BackendName;
  /** Why it was chosen: forced by flag/env, or first available. */
  reason: string;
  /** For every backend, whether it is available and, if not, why. */
  candidates: { name: BackendName; available: boolean; detail: string }[];
}

let report: BackendReport | undefined;

async function tryLoad(name: BackendName): Promise<{ ok: boolean; detail: string }> {
  try {
    switch (name) {
      case 'node-gpu':
        // The package registers the 'tensorflow' backend with CUDA kernels when it loads.
        await import(/* @vite-ignore */ '@tensorflow/tfjs-node-gpu' as string);
        return { ok: true, detail: 'libtensorflow with CUDA' };
      case 'node':
        await import(/* @vite-ignore */ '@tensorflow/tfjs-node' as string);
        return { ok: true, detail: 'libtensorflow on CPU' };
      case 'wasm': {
        await import('@tensorflow/tfjs-backend-wasm');
        return { ok: true, detail: 'XNNPACK compiled to WebAssembly (single thread in Node)' };
      }
      case 'cpu':
        return { ok: true, detail: 'plain JavaScript kernels' };
    }
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    const missing = /Cannot find (module|package)/.test(msg) || (err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND';
    const hint =
      name === 'node-gpu'
        ? 'npm install @tensorflow/tfjs-node-gpu (needs CUDA 11.2 and cuDNN 8.1)'
        : 'npm install @tensorflow/tfjs-node';
    return { ok: false, detail: missing ? `not installed (${hint})` : `failed to load: ${msg}` };
  }
}

/** tfjs registers node and node-gpu under the same engine name. */
function engineName(name: BackendName): string {
  return name === 'node' || name === 'node-gpu' ? 'tensorflow' : name;
}

async function activate(name: BackendName): Promise<boolean> {
  const ok = await tf.setBackend(engineName(name));
  if (ok) await tf.ready();
  return ok;
}

/**
 * Picks and activates the backend. `forced` (from --backend) wins over LAB_BACKEND. Idempotent: the
 * first call decides, later calls return the same report unless they force a different backend.
 */
export async function initBackend(forced?: string): Promise<BackendReport> {
  const request = forced ?? process.env.LAB_BACKEND ?? undefined;
  if (request !== undefined && !(BACKENDS as readonly string[]).includes(request)) {
    const source = forced !== undefined ? '--backend' : 'LAB_BACKEND';
    throw new UsageError(`${source} must be one of ${BACKENDS.join(', ')}; got '${request}'`, 'backend');
  }
  if (report && (request === undefined || request === report.active)) return report;

  const candidates: BackendReport['candidates'] = [];
  for (const name of BACKENDS) {
    const { ok, detail } = await tryLoad(name);
    candidates.push({ name, available: ok, detail });
  }
  tf.env().set('PROD', true); // skips tfjs' NaN checks in debug mode and its console warnings
  let active: BackendName | undefined;
  let reason: string;
  if (request !== undefined) {
    const c = candidates.find((x) => x.name === request)!;
    if (!c.available || !(await activate(c.name))) {
      throw new LabError(`backend '${request}' was forced (${forced !== undefined ? '--backend' : 'LAB_BACKEND'}) but cannot start: ${c.detail}`);
    }
    active = c.name;
    reason = forced !== undefined ? 'forced by --backend' : 'forced by LAB_BACKEND';
  } else {
    for (const c of candidates) {
      if (c.available && (await activate(c.name))) {
        active = c.name;
        break;
      }
      if (c.available) c.detail += ' (registered but failed to initialise)';
    }
    reason = 'first available in the order node-gpu, node, wasm, cpu';
  }
  if (!active) throw new LabError('no tfjs backend could start');
  report = { active, reason, candidates };
  return report;
}

/** The active backend's name, or undefined before initBackend(). */
export function activeBackend(): BackendName | undefined {
  return report?.active;
}

/** Human-readable report for `lab backend`. */
export function describeBackend(r: BackendReport): string {
  const lines = [`active backend: ${r.active} (${r.reason})`];
  for (const c of r.candidates) {
    const state = c.name === r.active ? 'active' : c.available ? 'available, not chosen' : 'unavailable';
    lines.push(`  ${c.name.padEnd(9)} ${state}: ${c.detail}`);
  }
  return lines.join('\n');
}

/**
 * Run directories: every job writes `manifest.json` (kind, config, seed, package versions, backend,
 * timings) plus its tables. Every file goes through a temp file and a rename, so a run killed midway
 * leaves either the old file or the new one, never half of one.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { InputError } from './errors.ts';
import { packagePath } from './paths.ts';

export const MANIFEST_VERSION = 1;

export interface Manifest {
  manifest_version: number;
  /** What produced the run: 'toy', 'toy-sweep', 'harvest', 'probe', 'classify', 'lm', ... */
  kind: string;
  created: string;
  command?: string;
  seed: number;
  config: Record<string, unknown>;
  versions: Record<string, string>;
  backend?: string;
  timings?: Record<string, number>;
  /** Files in the run directory that belong to the run, relative paths. */
  files?: string[];
  /** 'complete' once every file is written; a run directory without it is partial. */
  status: 'running' | 'complete';
  [extra: string]: unknown;
}

let tmpCounter = 0;

/** Writes bytes or text to `path` atomically: a temp file beside it, fsync, then rename. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${tmpCounter++}`;
  const fd = openSync(tmp, 'w');
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

export function readJson<T = unknown>(path: string): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read ${path}: ${(err as Error).message}`, path);
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new InputError(`${path} is not valid JSON: ${(err as Error).message}`, path);
  }
}

const require = createRequire(import.meta.url);

/** Versions of the lab, node and the packages a result depends on, for the manifest. */
export function packageVersions(extra: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = { node: process.versions.node };
  const own = JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string };
  out.neuronlab = own.version;
  for (const name of ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', 'arquero', ...extra]) {
    try {
      const pkgPath = require.resolve(`${name}/package.json`);
      out[name] = (JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string }).version;
    } catch {
      // A package that is not installed is simply not recorded.
    }
  }
  return out;
}

export interface RunDirOptions {
  kind: string;
  seed: number;
  config: Record<string, unknown>;
  backend?: string;
  command?: string;
  extraVersions?: string[];
}

/**
 * A run directory being written. `begin` marks it 'running'; `finish` writes the final manifest with
 * status 'complete'. Readers treat a directory whose manifest is not complete as partial.
 */
export class RunDir {
  readonly manifest: Manifest;
  private readonly started = performance.now();

  constructor(readonly dir: string, opts: RunDirOptions) {
    this.manifest = {
      manifest_version: MANIFEST_VERSION,
      kind: opts.kind,
      created: new Date().toISOString(),
      command: opts.command,
      seed: opts.seed,
      config: opts.config,
      versions: packageVersions(opts.extraVersions),
      backend: opts.backend,
      timings: {},
      files: [],
      status: 'running',
    };
  }

  static begin(dir: string, opts: RunDirOptions): RunDir {
    const run = new RunDir(dir, opts);
    mkdirSync(dir, { recursive: true });
    writeJsonAtomic(join(dir, 'manifest.json'), run.manifest);
    return run;
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /** Writes one file of the run atomically and records it in the manifest. */
  write(name: string, data: string | Uint8Array): void {
    writeFileAtomic(this.path(name), data);
    if (!this.manifest.files!.includes(name)) this.manifest.files!.push(name);
  }

  writeJson(name: string, value: unknown): void {
    this.write(name, JSON.stringify(value, null, 2) + '\n');
  }

  timing(stage: string, seconds: number): void {
    this.manifest.timings![stage] = seconds;
  }

  finish(extra: Record<string, unknown> = {}): Manifest {
    Object.assign(this.manifest, extra);
    this.manifest.timings!.total_s = (performance.now() - this.started) / 1000;
    this.manifest.status = 'complete';
    writeJsonAtomic(this.path('manifest.json'), this.manifest);
    return this.manifest;
  }
}

/** Reads a run directory's manifest, failing clearly on a missing, malformed or partial one. */
export function readManifest(dir: string, opts: { allowPartial?: boolean; kind?: string | string[] } = {}): Manifest {
  const path = join(dir, 'manifest.json');
  if (!existsSync(path)) throw new InputError(`${dir} is not a run directory: ${path} is missing`, path);
  const m = readJson<Manifest>(path);
  if (typeof m !== 'object' || m === null || typeof m.kind !== 'string') {
    throw new InputError(`${path} is not a neuronlab manifest (no "kind")`, path);
  }
  if (m.status !== 'complete' && !opts.allowPartial) {
    throw new InputError(`${dir} holds a partial run (manifest status '${m.status}'): rerun the command that wrote it`, path);
  }
  if (opts.kind !== undefined) {
    const kinds = Array.isArray(opts.kind) ? opts.kind : [opts.kind];
    if (!kinds.includes(m.kind)) throw new InputError(`${dir} is a '${m.kind}' run; expected ${kinds.join(' or ')}`, path);
  }
  return m;
}

/**
 * Run directories: every job writes `manifest.json` (kind, config, seed, package versions, backend,
 * timings) plus its tables. Every file goes through a temp file and a rename, so a run killed midway
 * leaves either the old file or the new one, never half of one.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { InputError, UsageError } from './errors.ts';
import { packagePath } from './paths.ts';
import { cleanTempFiles, readJson, TMP_MARK, writeFileAtomic } from './safe-fs.ts';
import { LOCK_FILE, lockRunDir, unlockRunDir } from './run-lock.ts';
import { canonicalJson, describeConfigDiff } from './canonical.ts';

export { readJson, writeFileAtomic };

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
  /** Replace a run of another kind or config in `dir` instead of refusing (the commands' --overwrite). */
  overwrite?: boolean;
  /** The caller already ran prepareRunDir under the lock (the harvest, whose store.json comes first). */
  prepared?: boolean;
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/** Entries a run directory may hold that are not the run's: its lock and temp files of a killed write. */
function incidental(name: string): boolean {
  return name === LOCK_FILE || name.includes(TMP_MARK);
}

/**
 * Checks that `dir` may receive a run of this kind and config: absent, empty, or holding a run of the
 * same kind and config (a rerun, which resumes or rewrites the same files). Another kind or config, or
 * a folder of other files, is a UsageError unless `overwrite`, which removes the old run's listed files
 * and manifest first (never files the old run did not list). A path that is not a folder is an InputError.
 */
export function prepareRunDir(dir: string, opts: { kind: string; config: Record<string, unknown>; overwrite?: boolean }): void {
  let st;
  try {
    st = lstatSync(dir);
  } catch {
    return;
  }
  if (!st.isDirectory()) throw new InputError(`--out ${dir} exists and is not a directory: choose another --out`, dir);
  const mpath = join(dir, 'manifest.json');
  if (!existsSync(mpath)) {
    const others = readdirSync(dir).filter((n) => !incidental(n));
    if (others.length && !opts.overwrite) {
      throw new UsageError(
        `--out ${dir} exists, is not empty (${others.slice(0, 3).join(', ')}${others.length > 3 ? ', ...' : ''}) and is not a run directory: choose another --out`,
        'out',
      );
    }
    return;
  }
  const old = readManifest(dir, { allowPartial: true });
  const sameKind = old.kind === opts.kind;
  const sameConfig = sameKind && canonicalJson(old.config) === canonicalJson(opts.config);
  if (sameConfig) return;
  if (!opts.overwrite) {
    const what = sameKind
      ? `a '${old.kind}' run with a different config (${describeConfigDiff(old.config, opts.config)})`
      : `a '${old.kind}' run, not a '${opts.kind}' one`;
    throw new UsageError(`--out ${dir} holds ${what}: pass --overwrite to replace it, or choose another --out`, 'out');
  }
  for (const f of old.files ?? []) {
    if (typeof f !== 'string' || f.split(/[\\/]/).includes('..')) continue;
    rmSync(join(dir, f), { recursive: true, force: true });
  }
  rmSync(mpath, { force: true });
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

  /**
   * Takes the directory's lock (lab/core/run-lock.ts: a second process is refused), checks it may hold
   * this run (prepareRunDir), removes temp files a killed run left, and writes the 'running' manifest.
   */
  static begin(dir: string, opts: RunDirOptions): RunDir {
    lockRunDir(dir, opts.command);
    try {
      if (!opts.prepared) prepareRunDir(dir, opts);
      const run = new RunDir(dir, opts);
      mkdirSync(dir, { recursive: true });
      cleanTempFiles(dir);
      writeJsonAtomic(join(dir, 'manifest.json'), run.manifest);
      return run;
    } catch (err) {
      unlockRunDir(dir);
      throw err;
    }
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
    unlockRunDir(this.dir);
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

/**
 * File access that cannot clobber or hang: atomic writes that refuse to replace anything but a regular
 * file (a symlink is written through to its target), reads that refuse FIFOs, devices and folders and
 * files past a size bound, and the clean-up of temp files a killed write left behind.
 */
import {
  closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync,
  statSync, writeSync, type Stats,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { InputError } from './errors.ts';

/** JSON files past this are corrupt or not what the lab wrote (the largest real tokenizer.json is ~20 MB). */
export const MAX_JSON_BYTES = 256 * 1024 * 1024;

/** The marker every temp file carries: `<name>.tmp-<pid>-<n>`. */
export const TMP_MARK = '.tmp-';

let tmpCounter = 0;

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symlink';
  return 'not a regular file';
}

/**
 * Where a write to `path` must land: `path` itself when it is absent or a regular file; the link's
 * target when it is a symlink to a regular file (or to nothing yet, in an existing folder), so the
 * link survives; an InputError for anything else, which a rename would silently replace.
 */
export function writeTarget(path: string): string {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch {
    return path;
  }
  if (st.isFile()) return path;
  if (st.isSymbolicLink()) {
    let real: string;
    try {
      real = realpathSync(path);
    } catch {
      throw new InputError(`${path} is a symlink to a missing target: refusing to replace the link with a file`, path);
    }
    const t = statSync(real);
    if (t.isFile()) return real;
    throw new InputError(`${path} is a symlink to ${real}, which is ${kindOf(t)}: refusing to write there`, path);
  }
  throw new InputError(`${path} exists and is ${kindOf(st)}: refusing to replace it with a file`, path);
}

/** Writes bytes or text to `path` atomically: a temp file beside it, fsync, then rename. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const target = writeTarget(path);
  const tmp = `${target}${TMP_MARK}${process.pid}-${tmpCounter++}`;
  const fd = openSync(tmp, 'wx');
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
  renameSync(tmp, target);
}

/**
 * Reads a whole file that must be a regular file of at most `maxBytes` (checked before reading, so a
 * FIFO cannot hang the read and /dev/zero cannot fill memory). `what` names the file in errors.
 */
export function readFileChecked(path: string, maxBytes: number, what = 'file'): Buffer {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (err) {
    throw new InputError(`cannot read ${path}: ${(err as Error).message}`, path);
  }
  if (!st.isFile()) throw new InputError(`${path} is ${kindOf(st)}, not a regular file: refusing to read it as a ${what}`, path);
  if (st.size > maxBytes) {
    throw new InputError(`${path} has ${st.size} bytes, more than the ${maxBytes} a ${what} may have: it is not one the lab can read`, path);
  }
  try {
    return readFileSync(path);
  } catch (err) {
    throw new InputError(`cannot read ${path}: ${(err as Error).message}`, path);
  }
}

export function readJson<T = unknown>(path: string, maxBytes = MAX_JSON_BYTES): T {
  const text = readFileChecked(path, maxBytes, 'JSON file').toString('utf8');
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    // V8 quotes the start of the text in its message: not echoed, in case the path led somewhere private.
    const why = (err as Error).message.replace(/,?\s*"(?:[^"\\]|\\.)*"(?:\.\.\.)? is not valid JSON/, '');
    throw new InputError(`${path} is not valid JSON: ${why}`, path);
  }
}

/** True when a process with this id exists (a signal-0 probe; EPERM means it exists but is not ours). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes temp files (`*.tmp-<pid>-<n>`) under `dir` whose writer is gone (another live process may be
 * writing its own). Walks subfolders up to `depth`. Returns how many it removed.
 */
export function cleanTempFiles(dir: string, depth = 3): number {
  let removed = 0;
  const walk = (d: string, left: number): void => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (left > 0) walk(p, left - 1);
        continue;
      }
      const m = /\.tmp-(\d+)-\d+$/.exec(e.name);
      if (!m || !e.isFile()) continue;
      const pid = Number(m[1]);
      if (pid !== process.pid && processAlive(pid)) continue;
      rmSync(p, { force: true });
      removed++;
    }
  };
  walk(dir, depth);
  return removed;
}

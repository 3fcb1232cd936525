/**
 * One writer per run directory. `lockRunDir` creates `<dir>/.lock` exclusively (O_EXCL) holding the
 * owner's pid, host and command; a second process gets a UsageError naming that pid (exit 2) and
 * touches nothing. A lock whose process is gone (killed: no chance to remove it) is taken over. The
 * lock is re-entrant within a process (the harvest's store writer and its RunDir both take it) and is
 * removed at the last release or when the process exits.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { InputError, UsageError } from './errors.ts';
import { processAlive } from './safe-fs.ts';

export const LOCK_FILE = '.lock';

interface LockInfo {
  pid: number;
  host: string;
  started: string;
  command?: string;
}

const held = new Map<string, number>();
let exitHook = false;

function removeAll(): void {
  for (const dir of held.keys()) rmSync(join(dir, LOCK_FILE), { force: true });
  held.clear();
}

function readLock(path: string): LockInfo | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
  } catch {
    return undefined; // being written this instant, or garbage: treated as stale below only if old
  }
}

/** Takes the lock on `dir` (creating the folder), or throws a UsageError naming the process holding it. */
export function lockRunDir(dir: string, command?: string): void {
  const key = resolve(dir);
  const count = held.get(key);
  if (count !== undefined) {
    held.set(key, count + 1);
    return;
  }
  if (existsSync(key) && !statSync(key).isDirectory()) throw new InputError(`--out ${dir} exists and is not a directory: choose another --out`, dir);
  mkdirSync(key, { recursive: true });
  const path = join(key, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString(), command };
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const other = readLock(path);
      const stale = other !== undefined && other.host === hostname() && (other.pid === process.pid || !processAlive(other.pid));
      if (!stale) {
        const who = other ? `process ${other.pid} on ${other.host} (since ${other.started}${other.command ? `: ${other.command}` : ''})` : 'another process';
        throw new UsageError(
          `--out ${dir} is in use by ${who}; wait for it to finish, or remove ${path} if that process is gone`,
          'out',
        );
      }
      rmSync(path, { force: true });
      continue;
    }
    writeSync(fd, JSON.stringify(info) + '\n');
    closeSync(fd);
    held.set(key, 1);
    if (!exitHook) {
      exitHook = true;
      process.on('exit', removeAll);
    }
    return;
  }
  throw new UsageError(`--out ${dir}: could not take ${path} (another process keeps replacing it)`, 'out');
}

/** Releases one hold of the lock; the last one removes the lock file. */
export function unlockRunDir(dir: string): void {
  const key = resolve(dir);
  const count = held.get(key);
  if (count === undefined) return;
  if (count > 1) {
    held.set(key, count - 1);
    return;
  }
  held.delete(key);
  rmSync(join(key, LOCK_FILE), { force: true });
}

/** True while this process holds the lock on `dir`. */
export function holdsRunDir(dir: string): boolean {
  return held.has(resolve(dir));
}

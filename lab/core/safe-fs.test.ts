import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanTempFiles, readJson, writeFileAtomic } from './safe-fs.ts';
import { lockRunDir, unlockRunDir, LOCK_FILE } from './run-lock.ts';
import { RunDir, prepareRunDir, readManifest } from './run-dir.ts';
import { InputError, UsageError } from './errors.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'safe-fs-'));

describe('writeFileAtomic never replaces what is not a regular file (issue 19 case 1)', () => {
  it('writes through a symlink to its target and keeps the link', () => {
    const d = tmp();
    writeFileSync(join(d, 'target.txt'), 'old');
    symlinkSync('target.txt', join(d, 'link.txt'));
    writeFileAtomic(join(d, 'link.txt'), 'new');
    expect(lstatSync(join(d, 'link.txt')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(d, 'link.txt'))).toBe('target.txt');
    expect(readFileSync(join(d, 'target.txt'), 'utf8')).toBe('new');
  });
  it('refuses a device, a FIFO, a folder and a dangling link, leaving them as they were', () => {
    const d = tmp();
    expect(() => writeFileAtomic('/dev/null', 'x')).toThrow(/\/dev\/null exists and is a character device: refusing/);
    expect(lstatSync('/dev/null').isCharacterDevice()).toBe(true);
    execFileSync('mkfifo', [join(d, 'fifo')]);
    expect(() => writeFileAtomic(join(d, 'fifo'), 'x')).toThrow(/is a FIFO/);
    expect(lstatSync(join(d, 'fifo')).isFIFO()).toBe(true);
    mkdirSync(join(d, 'dir'));
    expect(() => writeFileAtomic(join(d, 'dir'), 'x')).toThrow(InputError);
    symlinkSync('/dev/null', join(d, 'devlink'));
    expect(() => writeFileAtomic(join(d, 'devlink'), 'x')).toThrow(/symlink to \/dev\/null, which is a character device/);
    symlinkSync(join(d, 'missing'), join(d, 'dangling'));
    expect(() => writeFileAtomic(join(d, 'dangling'), 'x')).toThrow(/symlink to a missing target/);
    expect(readdirSync(d).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });
});

describe('reads refuse what would hang or fill memory (case 13)', () => {
  it('refuses a FIFO and /dev/zero as JSON, and JSON past the size bound', () => {
    const d = tmp();
    execFileSync('mkfifo', [join(d, 'config.json')]);
    expect(() => readJson(join(d, 'config.json'))).toThrow(/is a FIFO, not a regular file/);
    expect(() => readJson('/dev/zero')).toThrow(/\/dev\/zero is a character device/);
    writeFileSync(join(d, 'big.json'), '[' + '0,'.repeat(600) + '0]');
    expect(() => readJson(join(d, 'big.json'), 1000)).toThrow(/has 1203 bytes, more than the 1000/);
    expect(readJson<number[]>(join(d, 'big.json'), 2000).length).toBe(601);
  });
});

describe('temp files of a killed write (case 18)', () => {
  it('are removed when their process is gone, kept while it lives', () => {
    const d = tmp();
    const dead = execFileSync('sh', ['-c', 'echo $$']).toString().trim(); // a pid that has exited
    writeFileSync(join(d, `store.json.tmp-${dead}-0`), 'x');
    writeFileSync(join(d, `report.html.tmp-1-0`), 'x'); // pid 1 is alive
    mkdirSync(join(d, 'acts', 'h'), { recursive: true });
    writeFileSync(join(d, 'acts', 'h', `00000.f32.tmp-${dead}-3`), 'x');
    expect(cleanTempFiles(d)).toBe(2);
    expect(readdirSync(d).sort()).toEqual(['acts', 'report.html.tmp-1-0']);
  });
});

describe('the run-directory lock (case 5)', () => {
  it('refuses a second holder naming its pid, takes over a dead one, and is re-entrant in-process', () => {
    const d = tmp();
    writeFileSync(join(d, LOCK_FILE), JSON.stringify({ pid: 1, host: hostname(), started: 'then', command: 'lab harvest' }));
    expect(() => lockRunDir(d)).toThrow(UsageError);
    expect(() => RunDir.begin(d, { kind: 'toy', seed: 0, config: {} })).toThrow(/is in use by process 1 .*lab harvest/);
    expect(existsSync(join(d, 'manifest.json'))).toBe(false);
    const dead = execFileSync('sh', ['-c', 'echo $$']).toString().trim();
    writeFileSync(join(d, LOCK_FILE), JSON.stringify({ pid: Number(dead), host: hostname(), started: 'then' }));
    lockRunDir(d);
    lockRunDir(d);
    expect(JSON.parse(readFileSync(join(d, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    unlockRunDir(d);
    expect(existsSync(join(d, LOCK_FILE))).toBe(true);
    unlockRunDir(d);
    expect(existsSync(join(d, LOCK_FILE))).toBe(false);
  });
});

describe('a run directory of another kind or config is refused unless overwrite (case 2)', () => {
  it('refuses, names the difference, and with overwrite removes only the old run\'s listed files', () => {
    const d = join(tmp(), 'run');
    const a = RunDir.begin(d, { kind: 'harvest', seed: 0, config: { x: 1 } });
    a.write('store.json', '{}');
    a.finish();
    writeFileSync(join(d, 'notes.txt'), 'mine');
    expect(() => RunDir.begin(d, { kind: 'toy', seed: 0, config: { x: 1 } })).toThrow(/holds a 'harvest' run, not a 'toy' one: pass --overwrite/);
    expect(() => RunDir.begin(d, { kind: 'harvest', seed: 0, config: { x: 2 } })).toThrow(/different config \(x: 1 -> 2\)/);
    expect(readManifest(d).kind).toBe('harvest');
    // The same kind and config (a rerun) is allowed; key order does not matter.
    expect(() => prepareRunDir(d, { kind: 'harvest', config: { x: 1 } })).not.toThrow();
    const b = RunDir.begin(d, { kind: 'toy', seed: 0, config: {}, overwrite: true });
    b.finish();
    expect(readdirSync(d).sort()).toEqual(['manifest.json', 'notes.txt']);
    expect(readManifest(d).kind).toBe('toy');
  });
  it('refuses a folder of other files and a path that is a file', () => {
    const d = tmp();
    writeFileSync(join(d, 'thesis.tex'), 'x');
    expect(() => RunDir.begin(d, { kind: 'toy', seed: 0, config: {} })).toThrow(/is not empty \(thesis\.tex\) and is not a run directory/);
    expect(() => RunDir.begin(join(d, 'thesis.tex'), { kind: 'toy', seed: 0, config: {} })).toThrow(/exists and is not a directory/);
  });
});

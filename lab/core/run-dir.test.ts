import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunDir, readManifest, writeFileAtomic } from './run-dir.ts';

describe('run directories', () => {
  it('writes a manifest with seed, config and versions, partial until finished', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'lab-')), 'run');
    const run = RunDir.begin(dir, { kind: 'toy', seed: 3, config: { a: 1 } });
    expect(() => readManifest(dir)).toThrow(/partial run/);
    run.writeJson('table.json', [1, 2]);
    run.finish();
    const m = readManifest(dir, { kind: 'toy' });
    expect(m.seed).toBe(3);
    expect(m.config).toEqual({ a: 1 });
    expect(m.versions['@tensorflow/tfjs-core']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(m.files).toEqual(['table.json']);
    expect(() => readManifest(dir, { kind: 'probe' })).toThrow(/is a 'toy' run/);
  });

  it('leaves no temp files and replaces content whole', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-'));
    const p = join(dir, 'x.txt');
    writeFileAtomic(p, 'old');
    writeFileAtomic(p, 'new content');
    expect(readFileSync(p, 'utf8')).toBe('new content');
    expect(readdirSync(dir)).toEqual(['x.txt']);
  });

  it('names the file when a manifest is missing or malformed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-'));
    expect(() => readManifest(dir)).toThrow(/manifest\.json is missing/);
    writeFileSync(join(dir, 'manifest.json'), '{not json');
    expect(() => readManifest(dir)).toThrow(/manifest\.json is not valid JSON/);
  });
});

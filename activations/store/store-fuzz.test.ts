/**
 * The store reader against corruption (issue 19 cases 6, 7, 15): specific edits that used to read back
 * silently wrong, then a seeded fuzz of bit flips, truncations, zeroed spans, deleted files and
 * store.json edits. Every outcome must be a named error (a LabError) or a read identical to the
 * original store; none may read back different numbers. LAB_FUZZ_CASES sets the fuzz size (default
 * 300; the README's larger run uses 5000) and prints the outcome counts.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabError, Rng, RunDir } from '../../lab/core/index.ts';
import { openActivationStore, StoreWriter, type StoreInit } from './index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'store-fuzz-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function makeStore(name: string, dtype: 'f32' | 'u8'): string {
  const dir = join(tmp, name);
  const init: StoreInit = {
    config: { name }, model: { source: 'test' },
    dataset: { name: 'test', level: 'token', features: ['f', 'g'], label_columns: ['f', 'g'] },
    seed: 0, aggregation: 'none', dtype, quantisation: dtype === 'u8' ? 'per_neuron' : 'none',
    hooks: [{ name: 'h.0', n_neurons: 3, row_shape: [3] }, { name: 'h.1', n_neurons: 2, row_shape: [2] }],
  };
  const run = RunDir.begin(dir, { kind: 'harvest', seed: 0, config: init.config });
  const w = StoreWriter.open(dir, init, { chunkRows: 8 });
  const rng = new Rng(7);
  for (let s = 0; s < 12; s++) {
    const n = (s % 3) + 2;
    const values = [3, 2].map((d) => Float32Array.from({ length: n * d }, () => rng.normal()));
    const labels = Uint8Array.from({ length: n * 2 }, () => (rng.next() < 0.3 ? 1 : 0));
    w.appendSequence({ rows: n, seqIds: s, positions: Int32Array.from({ length: n }, (_, r) => r), tokenIds: Int32Array.from({ length: n }, (_, r) => 10 * s + r), labels, values, tokens: n });
  }
  w.finish();
  run.manifest.files = ['store.json', 'acts/', 'rows/', 'labels/'];
  run.finish();
  return dir;
}

/** Everything a probe or a report reads from a store, as one comparable string. */
function readAll(dir: string): string {
  const s = openActivationStore(dir);
  const parts: string[] = [];
  for (const h of s.hooks) {
    const pd = s.readProbeData(h);
    parts.push(h, Buffer.from(pd.X.buffer, pd.X.byteOffset, pd.X.byteLength).toString('base64'), String([...pd.seqIds]), String([...pd.positions]));
    for (const [f, y] of Object.entries(pd.labels)) parts.push(f, String([...y]));
  }
  parts.push(JSON.stringify(s.labelsTable().objects()));
  return parts.join('|');
}

function chunkFilesOf(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(r);
      else out.push(r);
    }
  };
  for (const d of ['acts', 'rows', 'labels']) walk(d);
  return out.sort();
}

let bases: { dir: string; ref: string; files: string[] }[] = [];
beforeAll(() => {
  bases = (['f32', 'u8'] as const).map((dt) => {
    const dir = makeStore(`base-${dt}`, dt);
    return { dir, ref: readAll(dir), files: chunkFilesOf(dir) };
  });
});

const editStore = (dir: string, f: (m: any) => void) => {
  const p = join(dir, 'store.json');
  const m = JSON.parse(readFileSync(p, 'utf8'));
  f(m);
  writeFileSync(p, JSON.stringify(m, null, 2));
};

function copyOf(base: string, name: string): string {
  const d = join(tmp, name);
  rmSync(d, { recursive: true, force: true });
  cpSync(base, d, { recursive: true });
  return d;
}

describe('corruption the store used to read silently (cases 6, 7)', () => {
  it('an exponent flip, a zeroed span, a label 0 -> 1 and a seq_id bit flip are named errors', () => {
    const b = bases[0]!;
    const cases: Array<[string, (d: string) => void]> = [
      ['exponent flip', (d) => { const p = join(d, 'acts/h.0/00000.f32'); const x = readFileSync(p); x[3]! ^= 0x40; writeFileSync(p, x); }],
      ['zeroed span', (d) => { const p = join(d, 'acts/h.1/00001.f32'); const x = readFileSync(p); x.fill(0, 0, 16); writeFileSync(p, x); }],
      ['label 0 -> 1', (d) => { const p = join(d, 'labels/00000.u8'); const x = readFileSync(p); const i = x.indexOf(0); x[i] = 1; writeFileSync(p, x); }],
      ['seq_id bit', (d) => { const p = join(d, 'rows/00001.i32'); const x = readFileSync(p); x[0]! ^= 1; writeFileSync(p, x); }],
    ];
    for (const [name, corrupt] of cases) {
      const d = copyOf(b.dir, `c-${name.replace(/\W/g, '')}`);
      corrupt(d);
      expect(() => readAll(d), name).toThrow(/does not match its sha256 in store\.json: the store is corrupt/);
      expect(() => openActivationStore(d).verify(), name).toThrow(/sha256/);
    }
    expect(openActivationStore(b.dir).verify()).toMatchObject({ chunks: 4, files: 16, checksummed: true });
  });

  it('total_rows + 100, a removed chunk entry and a file path outside the store are named errors', () => {
    const b = bases[0]!;
    const cases: Array<[(m: any) => void, RegExp]> = [
      [(m) => (m.total_rows += 100), /total_rows is \d+ but the chunks hold \d+ rows/],
      [(m) => { const c = m.chunks.pop(); m.total_rows -= c.rows; m.total_sequences -= c.sequences; m.total_tokens -= c.tokens; }, /lists 3 chunks but rows\/00003\.i32 exists/],
      [(m) => m.chunks.splice(1, 1), /chunk 1 has index 2 \(a chunk entry is missing/],
      [(m) => (m.chunks[0].files.rows = '../../etc/passwd'), /chunk 0 names files other than the store's own/],
      [(m) => (m.seed = 5), /does not match its digest/],
      [(m) => (m.total_rows = 'many'), /total_rows is many/],
      [(m) => (m.chunks = null), /chunks is not a list/],
    ];
    for (const [i, [edit, msg]] of cases.entries()) {
      const d = copyOf(b.dir, `m-${i}`);
      editStore(d, edit);
      expect(() => readAll(d)).toThrow(msg);
    }
  });

  it('a format 1 store (no checksums) still reads, with a note', () => {
    const d = copyOf(bases[0]!.dir, 'v1');
    editStore(d, (m) => {
      m.format_version = 1;
      delete m.digest;
      for (const c of m.chunks) delete c.sha256;
    });
    expect(readAll(d)).toBe(bases[0]!.ref);
    expect(openActivationStore(d).notes.join(' ')).toMatch(/store format 1 has no checksums/);
    expect(openActivationStore(d).verify().checksummed).toBe(false);
    editStore(d, (m) => (m.format_version = 9));
    expect(() => readAll(d)).toThrow(/store format version 9; this lab reads 1 and 2/);
  });
});

const CASES = Number(process.env.LAB_FUZZ_CASES ?? 300);

describe('store fuzz', () => {
  it(`${CASES} seeded mutations: each a named error or an exact read, none silent`, () => {
    const rng = new Rng(19);
    const counts: Record<string, number> = { named_error: 0, exact: 0 };
    const silent: string[] = [];
    const jsonEdits: Array<(m: any, r: Rng) => void> = [
      (m, r) => (m.total_rows += r.int(5) - 2),
      (m, r) => (m.total_tokens += r.int(3) + 1),
      (m, r) => (m.chunks[r.int(m.chunks.length)].rows += r.int(3) - 1),
      (m, r) => m.chunks.splice(r.int(m.chunks.length), 1),
      (m, r) => { const c = m.chunks.splice(r.int(m.chunks.length), 1)[0]; m.total_rows -= c.rows; m.total_sequences -= c.sequences; m.total_tokens -= c.tokens; },
      (m) => m.chunks.reverse(),
      (m) => (m.dtype = m.dtype === 'f32' ? 'f16' : 'f32'),
      (m, r) => (m.hooks[r.int(2)].n_neurons += 1),
      (m) => (m.dataset.label_columns = ['g', 'f']),
      (m) => (m.dataset.features = ['f', 'f']),
      (m, r) => (m.chunks[r.int(m.chunks.length)].files.labels = '../labels/00000.u8'),
      (m, r) => delete m.chunks[r.int(m.chunks.length)].sha256,
      (m) => (m.complete = false),
      (m) => (m.hooks = [m.hooks[0], m.hooks[0]]),
      (m) => (m.quantisation = 'per_tensor'),
      (m) => (m.format_version = 3),
    ];
    for (let i = 0; i < CASES; i++) {
      const b = bases[i % bases.length]!;
      const d = copyOf(b.dir, 'fuzz');
      const kind = rng.int(7);
      let what = '';
      if (kind <= 1) {
        // Bit flips in a chunk file.
        const f = b.files[rng.int(b.files.length)]!;
        const x = readFileSync(join(d, f));
        const flips = 1 + rng.int(3);
        for (let k = 0; k < flips; k++) x[rng.int(x.length)]! ^= 1 << rng.int(8);
        writeFileSync(join(d, f), x);
        what = `flip ${f}`;
      } else if (kind === 2) {
        const f = b.files[rng.int(b.files.length)]!;
        const size = statSync(join(d, f)).size;
        if (rng.next() < 0.5) truncateSync(join(d, f), rng.int(size));
        else writeFileSync(join(d, f), Buffer.concat([readFileSync(join(d, f)), Buffer.alloc(1 + rng.int(8))]));
        what = `resize ${f}`;
      } else if (kind === 3) {
        const f = b.files[rng.int(b.files.length)]!;
        if (rng.next() < 0.5) unlinkSync(join(d, f));
        else {
          const x = readFileSync(join(d, f));
          const a = rng.int(x.length);
          x.fill(0, a, Math.min(x.length, a + 1 + rng.int(16)));
          writeFileSync(join(d, f), x);
        }
        what = `delete/zero ${f}`;
      } else if (kind === 4) {
        const e = rng.int(jsonEdits.length);
        editStore(d, (m) => jsonEdits[e]!(m, rng));
        what = `store.json edit ${e}`;
      } else {
        // Byte flips in store.json (or manifest.json) text.
        const p = join(d, kind === 6 && rng.next() < 0.3 ? 'manifest.json' : 'store.json');
        const x = readFileSync(p);
        const at = rng.int(x.length);
        x[at]! ^= 1 << rng.int(7);
        writeFileSync(p, x);
        what = `byte flip ${p.slice(d.length + 1)} @${at}`;
      }
      let got: string | undefined;
      try {
        got = readAll(d);
      } catch (err) {
        if (err instanceof LabError) {
          counts.named_error!++;
          continue;
        }
        silent.push(`${what}: unnamed ${(err as Error).name}: ${(err as Error).message}`);
        continue;
      }
      if (got === b.ref) counts.exact!++;
      else silent.push(`${what}: read back different data`);
    }
    if (process.env.LAB_FUZZ_CASES) process.stderr.write(`store fuzz: ${CASES} cases: ${JSON.stringify(counts)}, silent ${silent.length}\n`);
    expect(silent).toEqual([]);
    expect(counts.named_error! + counts.exact!).toBe(CASES);
    expect(counts.named_error).toBeGreaterThan(CASES / 2);
    expect(existsSync(join(tmp, 'fuzz'))).toBe(true);
  }, Math.max(120_000, CASES * 400));
});

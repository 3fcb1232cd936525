/**
 * The safetensors reader against crafted and mutated files (issue 19 case 8). The specific cases used
 * to load silently garbled tensors. The fuzz mutates a small file (bit flips, truncations, header
 * edits) and compares the reader with a strict parse written here from the reference implementation's
 * rules (huggingface/safetensors Metadata::validate): where that parse rejects a file the reader must
 * throw a named error (InputError); where it accepts, the reader must return exactly its tensors. The
 * reader may be stricter (it refuses a duplicated name the reference would keep once). LAB_FUZZ_CASES
 * sets the size (default 300; the README's run uses 5000) and prints the counts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError, Rng } from '../../lab/core/index.ts';
import { SafetensorsFile, encodeSafetensors } from './safetensors.ts';

const tmp = mkdtempSync(join(tmpdir(), 'st-fuzz-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const WIDTH: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** The reference rules: name -> [dtype, shape, raw bytes], or a reason to reject. */
function strictParse(buf: Buffer): Map<string, [string, number[], Buffer]> | string {
  if (buf.length < 8) return 'short';
  const n = Number(buf.readBigUInt64LE(0));
  if (n < 2 || n > 100_000_000 || 8 + n > buf.length) return 'header length';
  let h: unknown;
  try {
    h = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  } catch {
    return 'json';
  }
  if (buf[8] !== 0x7b || typeof h !== 'object' || h === null || Array.isArray(h)) return 'not an object';
  const data = buf.subarray(8 + n);
  const list: Array<[string, string, number[], number, number]> = [];
  for (const [k, v] of Object.entries(h as Record<string, any>)) {
    if (k === '__metadata__') {
      if (v !== null && (typeof v !== 'object' || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string'))) return 'metadata';
      continue;
    }
    if (typeof v !== 'object' || v === null || !(v.dtype in WIDTH) || !Array.isArray(v.shape) || !v.shape.every((d: unknown) => Number.isInteger(d) && (d as number) >= 0)) return 'entry';
    const o = v.data_offsets;
    if (!Array.isArray(o) || o.length !== 2 || !o.every((d: unknown) => Number.isInteger(d) && (d as number) >= 0) || o[1] < o[0]) return 'offsets';
    if ((o[1] - o[0]) !== v.shape.reduce((a: number, b: number) => a * b, 1) * WIDTH[v.dtype]!) return 'size';
    list.push([k, v.dtype, v.shape, o[0], o[1]]);
  }
  list.sort((a, b) => a[3] - b[3] || a[4] - b[4]);
  let at = 0;
  for (const t of list) {
    if (t[3] !== at) return 'tiling';
    at = t[4];
  }
  if (at !== data.length) return 'incomplete buffer';
  return new Map(list.map((t) => [t[0], [t[1], t[2], Buffer.from(data.subarray(t[3], t[4]))]]));
}

function readerParse(path: string): Map<string, [string, number[], Buffer]> {
  const f = SafetensorsFile.open(path);
  try {
    return new Map([...f.tensors.values()].map((t) => [t.name, [t.dtype, t.shape, f.readRaw(t.name)]]));
  } finally {
    f.close();
  }
}

const same = (a: Map<string, [string, number[], Buffer]>, b: Map<string, [string, number[], Buffer]>) =>
  a.size === b.size && [...a].every(([k, v]) => b.has(k) && b.get(k)![0] === v[0] && String(b.get(k)![1]) === String(v[1]) && b.get(k)![2].equals(v[2]));

function base(): Buffer {
  const t = new Map([
    ['wte', { dtype: 'f32' as const, shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => i - 5.5) }],
    ['ln.b', { dtype: 'f16' as const, shape: [4], data: Float32Array.of(1, -2, 0.5, 3) }],
    ['h.0.w', { dtype: 'f32' as const, shape: [2, 2], data: Float32Array.of(0.25, 1e-3, -7, 9) }],
  ]);
  return Buffer.from(encodeSafetensors(t, { format: 'pt' }));
}

function withHeader(buf: Buffer, edit: (h: any) => void, lenDelta = 0): Buffer {
  const n = Number(buf.readBigUInt64LE(0));
  const h = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  edit(h);
  const hb = Buffer.from(JSON.stringify(h));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(hb.length + lenDelta));
  return Buffer.concat([len, hb, buf.subarray(8 + n)]);
}

describe('safetensors files the reader used to accept (case 8)', () => {
  it('a header length one byte short, overlapping offsets, a duplicate name and junk between tensors are named errors', () => {
    const b = base();
    const n = Number(b.readBigUInt64LE(0));
    const short = Buffer.from(b);
    short.writeBigUInt64LE(BigInt(n - 1), 0);
    const write = (name: string, bytes: Buffer) => {
      const p = join(tmp, `${name}.safetensors`);
      writeFileSync(p, bytes);
      return p;
    };
    expect(() => SafetensorsFile.open(write('short', short))).toThrow(/tensors end at data byte \d+ but the file holds \d+ data bytes|not valid JSON/);
    const overlap = withHeader(b, (h) => { h['h.0.w'].data_offsets = [h['wte'].data_offsets[0], h['wte'].data_offsets[0] + 16]; });
    expect(() => SafetensorsFile.open(write('overlap', overlap))).toThrow(/overlaps|belong to no tensor/);
    // A duplicated name: JSON.parse keeps the second entry, the first one's bytes are left over.
    const hb = b.subarray(8, 8 + n).toString('utf8').trimEnd();
    const dupText = hb.replace('"wte":', '"h.0.w":');
    const dup = Buffer.concat([Buffer.alloc(8), Buffer.from(dupText), b.subarray(8 + n)]);
    dup.writeBigUInt64LE(BigInt(Buffer.byteLength(dupText)), 0);
    expect(() => SafetensorsFile.open(write('dup', dup))).toThrow(/names a tensor twice|belong to no tensor/);
    const gap = withHeader(Buffer.concat([b.subarray(0, 8 + n), Buffer.alloc(4, 0x55), b.subarray(8 + n)]), (h) => {
      for (const k of Object.keys(h)) if (k !== '__metadata__') h[k].data_offsets = h[k].data_offsets.map((x: number) => x + 4);
    });
    expect(() => SafetensorsFile.open(write('gap', gap))).toThrow(/4 data bytes before tensor '.*' belong to no tensor/);
    mkdirSync(join(tmp, 'model.safetensors'));
    expect(() => SafetensorsFile.open(join(tmp, 'model.safetensors'))).toThrow(/is not a regular file \(a directory\)/);
    expect(readerParse(write('ok', b)).size).toBe(3);
  });
});

const CASES = Number(process.env.LAB_FUZZ_CASES ?? 300);

describe('safetensors fuzz', () => {
  it(`${CASES} seeded mutations: each a named error or exactly the reference's tensors`, () => {
    const rng = new Rng(8);
    const b = base();
    const n = Number(b.readBigUInt64LE(0));
    const counts = { named_error: 0, exact: 0, stricter: 0 };
    const silent: string[] = [];
    const path = join(tmp, 'fuzz.safetensors');
    for (let i = 0; i < CASES; i++) {
      let x: Buffer = Buffer.from(b);
      const kind = rng.int(6);
      if (kind === 0) {
        for (let k = 0, m = 1 + rng.int(4); k < m; k++) x[rng.int(x.length)]! ^= 1 << rng.int(8);
      } else if (kind === 1) {
        x = x.subarray(0, rng.int(x.length));
      } else if (kind === 2) {
        // A flip in the header text or its length.
        const at = rng.int(8 + n);
        x[at]! ^= 1 << rng.int(8);
      } else if (kind === 3) {
        x.writeBigUInt64LE(BigInt(Math.max(0, n + rng.int(17) - 8)), 0);
      } else if (kind === 4) {
        const names = ['wte', 'ln.b', 'h.0.w'];
        const t = names[rng.int(3)]!;
        const e = rng.int(6);
        x = withHeader(x, (h) => {
          if (e === 0) h[t].data_offsets[rng.int(2)] += rng.int(9) - 4;
          else if (e === 1) h[t].dtype = ['F32', 'I32', 'F16', 'BF16', 'U8', 'X'][rng.int(6)];
          else if (e === 2) h[t].shape = h[t].shape.slice().reverse().concat(rng.next() < 0.5 ? [1] : []);
          else if (e === 3) delete h[t];
          else if (e === 4) h[t].data_offsets = [h[t].data_offsets[1], h[t].data_offsets[0]];
          else h.__metadata__ = rng.next() < 0.5 ? { a: 1 } : 'x';
        }, rng.next() < 0.2 ? rng.int(3) - 1 : 0);
      } else {
        // Bytes appended or inserted in the data region.
        const at = 8 + n + rng.int(x.length - 8 - n + 1);
        x = Buffer.concat([x.subarray(0, at), Buffer.alloc(1 + rng.int(8), rng.int(256)), x.subarray(at)]);
      }
      writeFileSync(path, x);
      const ref = strictParse(x);
      let got: Map<string, [string, number[], Buffer]> | undefined;
      try {
        got = readerParse(path);
      } catch (err) {
        if (!(err instanceof InputError)) silent.push(`case ${i} (kind ${kind}): unnamed ${(err as Error).name}: ${(err as Error).message}`);
        else if (typeof ref === 'string') counts.named_error++;
        else counts.stricter++;
        continue;
      }
      if (typeof ref === 'string') silent.push(`case ${i} (kind ${kind}): loaded a file the reference rejects (${ref})`);
      else if (same(got, ref)) counts.exact++;
      else silent.push(`case ${i} (kind ${kind}): loaded tensors that differ from the reference`);
    }
    if (process.env.LAB_FUZZ_CASES) process.stderr.write(`safetensors fuzz: ${CASES} cases: ${JSON.stringify(counts)}, silent ${silent.length}\n`);
    expect(silent).toEqual([]);
    expect(counts.named_error + counts.exact + counts.stricter).toBe(CASES);
    expect(counts.named_error).toBeGreaterThan(0);
    expect(counts.exact).toBeGreaterThan(0);
  }, Math.max(120_000, CASES * 100));
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../lab/core/index.ts';
import { CheckpointReader, writeCheckpoint } from './checkpoint.ts';
import { SafetensorsFile, encodeSafetensors, f32ToF16, toF32 } from './safetensors.ts';

const tmp = mkdtempSync(join(tmpdir(), 'st-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Builds a safetensors file by hand (header + raw bytes), independent of the writer. */
function handMade(entries: { name: string; dtype: string; shape: number[]; bytes: Uint8Array }[], headerOverride?: string): Buffer {
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [off, off + e.bytes.length] };
    off += e.bytes.length;
  }
  const hb = Buffer.from(headerOverride ?? JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(hb.length));
  return Buffer.concat([len, hb, ...entries.map((e) => Buffer.from(e.bytes))]);
}

describe('safetensors', () => {
  it('reads F32, F16 and BF16 as f32', () => {
    const vals = new Float32Array([1, -2.5, 0.333251953125, 65504, 6.103515625e-5, 0]);
    const f16 = new Uint16Array([0x3c00, 0xc100, 0x3555, 0x7bff, 0x0400, 0x0000]);
    const bf = new Uint16Array([...new Uint32Array(new Float32Array([1, -2.5, 3]).buffer)].map((u) => u >>> 16));
    const path = join(tmp, 'dtypes.safetensors');
    writeFileSync(
      path,
      handMade([
        { name: 'a', dtype: 'F32', shape: [2, 3], bytes: new Uint8Array(vals.buffer) },
        { name: 'b', dtype: 'F16', shape: [6], bytes: new Uint8Array(f16.buffer) },
        { name: 'c', dtype: 'BF16', shape: [3], bytes: new Uint8Array(bf.buffer) },
      ]),
    );
    const f = SafetensorsFile.open(path);
    expect([...f.readF32('a')]).toEqual([...vals]);
    expect([...f.readF32('b')]).toEqual([...vals]);
    expect([...f.readF32('c')]).toEqual([1, -2.5, 3]);
    expect(f.info('a').shape).toEqual([2, 3]);
    f.close();
  });

  it('f32 -> f16 rounds to nearest even, handles subnormals and overflow', () => {
    const x = new Float32Array([1, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 2 ** -24, 2 ** -26, 70000, -0.5, 6e-8]);
    const h = f32ToF16(x);
    // 1+2^-11 is halfway between 1 and 1+2^-10: ties to even -> 1; 1+3*2^-11 ties up to 1+2^-9.
    expect([...h]).toEqual([0x3c00, 0x3c00, 0x3c02, 0x0001, 0x0000, 0x7c00, 0xb800, 0x0001]);
    const back = toF32(Buffer.from(h.buffer), 'F16');
    expect(back[6]).toBe(-0.5);
  });

  it('writer output reads back, and f16 round-trips within half precision', () => {
    const data = new Float32Array(1000).map((_, i) => Math.sin(i) * 10);
    const bytes = encodeSafetensors(
      new Map([
        ['w32', { dtype: 'f32' as const, shape: [10, 100], data }],
        ['w16', { dtype: 'f16' as const, shape: [1000], data }],
      ]),
    );
    const path = join(tmp, 'rt.safetensors');
    writeFileSync(path, bytes);
    const n = Number(Buffer.from(bytes).readBigUInt64LE(0));
    expect((8 + n) % 8).toBe(0);
    const f = SafetensorsFile.open(path);
    expect(f.readF32('w32')).toEqual(data);
    const h = f.readF32('w16');
    for (let i = 0; i < data.length; i++) expect(Math.abs(h[i]! - data[i]!)).toBeLessThanOrEqual(Math.abs(data[i]!) * 2 ** -11 + 1e-7);
    f.close();
  });

  it('rejects truncated, corrupt and out-of-range files, naming file and tensor', () => {
    const good = handMade([{ name: 'layer.w', dtype: 'F32', shape: [4], bytes: new Uint8Array(16) }]);
    const trunc = join(tmp, 'trunc.safetensors');
    writeFileSync(trunc, good.subarray(0, good.length - 4));
    expect(() => SafetensorsFile.open(trunc)).toThrow(/trunc\.safetensors is truncated.*'layer\.w'/);
    const tiny = join(tmp, 'tiny.safetensors');
    writeFileSync(tiny, Buffer.from([1, 2, 3]));
    expect(() => SafetensorsFile.open(tiny)).toThrow(InputError);
    const badJson = join(tmp, 'badjson.safetensors');
    writeFileSync(badJson, handMade([], '{not json'));
    expect(() => SafetensorsFile.open(badJson)).toThrow(/badjson\.safetensors: safetensors header is not valid JSON/);
    const hugeLen = join(tmp, 'hugelen.safetensors');
    const b = Buffer.from(good);
    b.writeBigUInt64LE(10n ** 12n);
    writeFileSync(hugeLen, b);
    expect(() => SafetensorsFile.open(hugeLen)).toThrow(/hugelen\.safetensors is corrupt or truncated/);
    const badShape = join(tmp, 'badshape.safetensors');
    writeFileSync(badShape, handMade([], JSON.stringify({ 'x.y': { dtype: 'F32', shape: [5], data_offsets: [0, 16] } }) + ' '.repeat(0)));
    expect(() => SafetensorsFile.open(badShape)).toThrow(/tensor 'x\.y'.*shape \[5\] of F32 needs 20/);
    const badDtype = join(tmp, 'baddtype.safetensors');
    writeFileSync(badDtype, handMade([], JSON.stringify({ q: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } })));
    expect(() => SafetensorsFile.open(badDtype)).toThrow(/tensor 'q': unsupported dtype "F8_E4M3"/);
    expect(() => SafetensorsFile.open(join(tmp, 'nope.safetensors'))).toThrow(/cannot open .*nope\.safetensors/);
  });

  it('reads sharded checkpoints through model.safetensors.index.json', () => {
    const dir = join(tmp, 'sharded');
    const a = new Float32Array([1, 2, 3]);
    const b = new Float32Array([4, 5]);
    writeCheckpoint(dir, { config: { model_type: 'gpt2' }, tensors: new Map([['a', { dtype: 'f32', shape: [3], data: a }]]) });
    rmSync(join(dir, 'model.safetensors'));
    writeFileSync(join(dir, 'model-00001-of-00002.safetensors'), encodeSafetensors(new Map([['a', { dtype: 'f32', shape: [3], data: a }]])));
    writeFileSync(join(dir, 'model-00002-of-00002.safetensors'), encodeSafetensors(new Map([['b', { dtype: 'f16', shape: [2], data: b }]])));
    writeFileSync(
      join(dir, 'model.safetensors.index.json'),
      JSON.stringify({ weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' } }),
    );
    const r = new CheckpointReader(dir);
    expect([...r.read('a', [3])]).toEqual([1, 2, 3]);
    expect([...r.read('b', [2])]).toEqual([4, 5]);
    expect(() => r.read('b', [2], 'F32')).toThrow(/model-00002-of-00002\.safetensors: tensor 'b' is F16 but config\.json says torch_dtype float32/);
    expect(() => r.read('a', [4])).toThrow(/tensor 'a' has shape \[3\] but config\.json implies \[4\]/);
    expect(() => r.read('c', [1])).toThrow(/tensor 'c' is missing/);
    const c1 = r.checksum();
    r.close();
    writeFileSync(
      join(dir, 'model.safetensors.index.json'),
      JSON.stringify({ weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00003-of-00002.safetensors' } }),
    );
    expect(() => new CheckpointReader(dir)).toThrow(/cannot open .*model-00003-of-00002\.safetensors/);
    expect(c1).toMatch(/^[0-9a-f]{64}$/);
  });

  it('writeCheckpoint writes config.json, model.safetensors and tokenizer.json', () => {
    const dir = join(tmp, 'ckpt');
    writeCheckpoint(dir, {
      config: { model_type: 'gpt2', n_layer: 1 },
      tensors: new Map([['w', { dtype: 'f16', shape: [2], data: new Float32Array([0.5, 2]) }]]),
      tokenizerJson: { model: { type: 'BPE' } },
    });
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(cfg).toMatchObject({ model_type: 'gpt2', n_layer: 1, torch_dtype: 'float16' });
    expect(JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'))).toEqual({ model: { type: 'BPE' } });
    const f = SafetensorsFile.open(join(dir, 'model.safetensors'));
    expect(f.info('w').dtype).toBe('F16');
    expect([...f.readF32('w')]).toEqual([0.5, 2]);
    f.close();
  });
});

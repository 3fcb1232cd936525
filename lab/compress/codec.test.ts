import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../core/backend.ts';
import { InputError } from '../core/index.ts';
import { Rng } from '../core/index.ts';
import { compress, decompress } from './codec.ts';
import { readContainer, writeContainer } from './container.ts';
import { charModel } from './test-model.ts';

const ENGINE = 'cpu test';
const enc = new TextEncoder();

function roundTrip(data: Uint8Array, model = charModel(), opts: Parameters<typeof compress>[2] = {}) {
  const c = compress(model, data, { engine: ENGINE, ...opts });
  const d = decompress(model, c.file, { engine: ENGINE });
  expect(Buffer.from(d.data).equals(Buffer.from(data))).toBe(true);
  return c;
}

const sample =
  'The jury further said in term-end presentments that the City Executive Committee, which had over-all ' +
  'charge of the election, "deserves the praise and thanks of the City of Atlanta" for the manner in which ' +
  'the election was conducted.\n';

beforeAll(async () => {
  await initBackend('cpu');
});

describe('compress / decompress', () => {
  it('round-trips text, spanning several windows with one forward step per token', () => {
    const model = charModel({ contextLength: 40 });
    const data = enc.encode(sample.repeat(3));
    const { stats } = roundTrip(data, model, { overlap: 10 });
    expect(stats.tokens).toBe(data.length);
    expect(stats.escapes).toBe(0);
    // Encoder calls: BOS, then one per token except at restarts, which prefill BOS + 10 tokens.
    const encoderCalls = model.calls.slice(0, stats.forwardCalls);
    expect(encoderCalls[0]).toBe(1);
    expect(encoderCalls.filter((n) => n === 11).length).toBeGreaterThan(10);
    expect(encoderCalls.every((n) => n === 1 || n === 11)).toBe(true);
    // BOS plus one step per token but the last, whose successor nobody asks for.
    expect(stats.forwardCalls).toBe(stats.tokens);
  });

  it('leaves no tensors behind', () => {
    const model = charModel({ contextLength: 20 });
    const before = tf.memory().numTensors;
    roundTrip(enc.encode(sample), model, { overlap: 5 });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('round-trips the empty input as an empty output', () => {
    const { file, stats } = roundTrip(new Uint8Array(0));
    expect(stats.items).toBe(0);
    expect(file.length).toBeLessThan(100);
  });

  it('round-trips binary data, invalid UTF-8, unknown characters and a BOM through escapes', () => {
    const rng = new Rng(2);
    const binary = Uint8Array.from({ length: 3000 }, () => rng.int(256));
    const { stats } = roundTrip(binary);
    expect(stats.rawBytes).toBeGreaterThan(2500);
    // Raw bytes cost 8 bits plus an escape per 255-byte run and the odd short text run.
    expect(stats.payloadBytes).toBeLessThan(binary.length * 1.08);
    // An executable-like file: NUL padding with short ASCII fragments. Its controls are raw, so the
    // model never codes those fragments far above 8 bits a byte.
    const parts: number[] = [];
    for (let i = 0; i < 300; i++) parts.push(...enc.encode(['.text', 'main', 'GLIBC_2.2.5', 'x'][i % 4]!), 0, 0, rng.int(4), 0, 0x7f);
    const exe = Uint8Array.from(parts);
    const e = roundTrip(exe);
    expect(e.stats.payloadBytes).toBeLessThan(exe.length * 1.08);
    const mixed = new Uint8Array([
      0xef, 0xbb, 0xbf, ...enc.encode('Caf\u00e9 na\u00efve \u65e5\u672c ok. '), 0xff, 0xfe, 0x80,
      ...enc.encode('Stray bytes then text\n'), 0xc3, ...enc.encode('\u{1f600} e\u0301 \r\n\0 end'),
    ]);
    const m = roundTrip(mixed);
    expect(m.stats.escapes).toBeGreaterThanOrEqual(2);
    expect(m.stats.rawBytes).toBeGreaterThan(5);
    roundTrip(enc.encode('\u00e9'));
    roundTrip(new Uint8Array([0xff]));
    roundTrip(enc.encode('a'));
  });

  it('round-trips with a model without BOS and with a padded vocabulary', () => {
    roundTrip(enc.encode(sample), charModel({ withBos: false, contextLength: 16 }), { overlap: 4 });
    roundTrip(enc.encode(sample), charModel({ pad: 7, contextLength: 32 }));
  });

  it('is deterministic, and the payload lands within 1% of the model cross-entropy on 10 kB', () => {
    const model = charModel({ contextLength: 64 });
    let text = '';
    const rng = new Rng(4);
    const words = sample.split(' ');
    while (text.length < 10_300) text += words[rng.int(words.length)] + (rng.next() < 0.1 ? '.\n' : ' ');
    const data = enc.encode(text);
    const a = roundTrip(data, model);
    const b = compress(model, data, { engine: ENGINE });
    expect(Buffer.from(a.file).equals(Buffer.from(b.file))).toBe(true);
    const payloadBits = a.stats.payloadBytes * 8;
    expect(payloadBits / a.stats.modelBits).toBeGreaterThan(0.99);
    expect(payloadBits / a.stats.modelBits).toBeLessThan(1.01);
    expect(Math.abs(payloadBits - a.stats.codedBits)).toBeLessThan(8 * 8);
  });

  it('refuses another model, tokenizer or engine with a clear message', () => {
    const model = charModel();
    const { file } = compress(model, enc.encode(sample), { engine: ENGINE });
    expect(() => decompress(charModel({ checksum: 'other' }), file, { engine: ENGINE })).toThrow(/another model/);
    expect(() => decompress(charModel({ withBos: false, checksum: model.source.checksum }), file, { engine: ENGINE })).toThrow(/another tokenizer/);
    expect(() => decompress(model, file, { engine: 'wasm tfjs-core@9' })).toThrow(/--backend cpu/);
  });

  it('never returns a wrong output from a truncated or corrupted file', () => {
    const model = charModel();
    const data = enc.encode(sample);
    const { file } = compress(model, data, { engine: ENGINE });
    for (const n of [0, 3, 10, 40, file.length - 1]) {
      expect(() => decompress(model, file.slice(0, n), { engine: ENGINE })).toThrow(InputError);
    }
    const rng = new Rng(8);
    for (let t = 0; t < 40; t++) {
      const bad = file.slice();
      const pos = rng.int(bad.length);
      bad[pos] ^= 1 << rng.int(8);
      expect(() => decompress(model, bad, { engine: ENGINE }), `flip at ${pos}`).toThrow(InputError);
    }
    // A payload altered with valid checksums (what a CRC cannot see) never gives a wrong output: the
    // decoder runs off the end, stops early, or its output's digest differs from the original's. (A
    // flip in the slack of the last flush bytes may still decode to the original, which is right.)
    const { header, payload } = readContainer(file);
    for (let t = 0; t < 30; t++) {
      const p = payload.slice();
      const pos = 1 + rng.int(p.length - 1);
      p[pos] ^= 1 << rng.int(8);
      const forged = writeContainer(header, p);
      let out: Uint8Array | undefined;
      try {
        out = decompress(model, forged, { engine: ENGINE }).data;
      } catch (err) {
        expect(err, `forged flip at ${pos}`).toBeInstanceOf(InputError);
      }
      if (out) expect(Buffer.from(out).equals(Buffer.from(data)), `forged flip at ${pos}`).toBe(true);
    }
    // A forged header with a window the model cannot run names the file and the field, not a flag
    // decompress does not have (issue 19 case 16).
    for (const h of [{ ...header, context: 9999 }, { ...header, overlap: 0 }, { ...header, totalBits: 3 }]) {
      expect(() => decompress(model, writeContainer(h, payload), { engine: ENGINE, name: 'x.lmz' })).toThrow(/^x\.lmz: its header's (context|overlap|total-bits) must be .*: the file is corrupt/);
    }
    const extra = new Uint8Array(file.length + 1);
    extra.set(file);
    expect(() => decompress(model, extra, { engine: ENGINE })).toThrow(/trailing/);
    expect(() => decompress(model, enc.encode('hello'), { engine: ENGINE })).toThrow(/not a file written by lab compress/);
  });
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../core/backend.ts';
import { readManifest } from '../core/index.ts';
import { Rng } from '../core/index.ts';
import { loadModel, writeRandomCheckpoint } from '../../activations/index.ts';
import { compress, decompress } from '../compress/index.ts';
import { listCheckpoints } from '../lm/index.ts';
import { runLab } from '../cli-test-support.ts';

const tmp = mkdtempSync(join(tmpdir(), 'lab-compress-'));
const gpt2 = join(tmp, 'gpt2');
const neox = join(tmp, 'neox');
const text =
  'The Fulton County Grand Jury said Friday an investigation of recent primary election produced no evidence ' +
  'that any irregularities took place. Caf\u00e9 \u65e5\u672c.\n';

beforeAll(async () => {
  await initBackend('wasm');
  const shape = { nLayers: 2, dModel: 16, nHeads: 2, vocabSize: 265, contextLength: 24, std: 0.3 };
  writeRandomCheckpoint(gpt2, { architecture: 'gpt2', ...shape, seed: 1 });
  writeRandomCheckpoint(neox, { architecture: 'gpt-neox', ...shape, seed: 2 });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const run = runLab;

describe('real tiny checkpoints', () => {
  it('round-trip through GPT-2 (byte-level BPE) and GPT-NeoX (NFC normaliser: non-NFC text is escaped)', async () => {
    for (const dir of [gpt2, neox]) {
      const model = await loadModel(dir);
      try {
        // The model makes its transposed unembedding on first use and keeps it while loaded (a
        // harvest never needs it): made here, so the counts below see only what a call leaves behind.
        compress(model, new TextEncoder().encode('a'));
        const nonNfc = new TextEncoder().encode('The Caf\u00e9, Cafe\u0301 and na\u0308ive words after it.\n');
        for (const data of [new TextEncoder().encode(text.slice(0, 90)), nonNfc, Uint8Array.from([0xff, 0, 0xc3, 0x28])]) {
          const before = tf.memory().numTensors;
          const { file, stats } = compress(model, data);
          expect(tf.memory().numTensors).toBe(before); // the KV cache and every logit tensor are released
          if (data === nonNfc) expect(stats.rawBytes > 0).toBe(dir === neox);
          const back = decompress(model, file);
          expect(Buffer.from(back.data).equals(Buffer.from(data))).toBe(true);
          // One forward call per token (BOS first, none after the last); escapes after the last token
          // ask for one more distribution. Window restarts replace a step, they do not add one.
          expect(stats.forwardCalls).toBeGreaterThanOrEqual(stats.tokens);
          expect(stats.forwardCalls).toBeLessThanOrEqual(stats.tokens + 1);
        }
        // An executable-like file: NUL padding around short ASCII fragments. Byte-level BPE could code
        // every byte, but the controls (5 per fragment) go raw, and the fragments under 8 bytes with them.
        const parts: number[] = [];
        for (let i = 0; i < 60; i++) parts.push(...new TextEncoder().encode(['.text', 'main', 'GLIBC_2.2.5'][i % 3]!), 0, 0, i & 3, 0, 0x7f);
        const exe = Uint8Array.from(parts);
        const e = compress(model, exe);
        expect(Buffer.from(decompress(model, e.file).data).equals(Buffer.from(exe))).toBe(true);
        expect(e.stats.rawBytes).toBeGreaterThanOrEqual(60 * 5 + 40 * 4.5);
        expect(e.stats.payloadBytes).toBeLessThan(exe.length * 1.25);
      } finally {
        model.dispose();
      }
    }
  });
});

describe('lab compress / decompress', () => {
  it('--report --checkpoints gives one row per step-N folder, oldest first, then the final model', async () => {
    const runDir = join(tmp, 'train');
    const shape = { architecture: 'gpt2' as const, nLayers: 1, dModel: 8, nHeads: 2, vocabSize: 265, contextLength: 16 };
    writeRandomCheckpoint(join(runDir, 'checkpoints', 'step-20'), { ...shape, seed: 3, std: 0.5 });
    writeRandomCheckpoint(join(runDir, 'checkpoints', 'step-5'), { ...shape, seed: 4, std: 1 });
    writeRandomCheckpoint(runDir, { ...shape, seed: 5, std: 0.02 });
    writeFileSync(join(runDir, 'manifest.json'), JSON.stringify({ kind: 'lm', checkpoints: [{ step: 5, held_out_subset_loss: 5.5 }] }));
    const cks = listCheckpoints(runDir);
    expect(cks.map((c) => c.label)).toEqual(['step-5', 'step-20', 'final']);
    expect(cks.map((c) => c.recordedLoss)).toEqual([5.5, NaN, NaN]);
    const out = join(tmp, 'ck-run');
    const r = await run(
      'compress', '--report', '--backend', 'wasm', '--quiet', '--model', gpt2, '--no-brown', '--checkpoints', runDir,
      '--checkpoint-bytes', '300', '--out', out,
    );
    expect(r.code).toBe(0);
    const lines = readFileSync(join(out, 'checkpoints.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toMatch(/^checkpoint,step,bytes,tokens,held_out_loss_nats_per_token,model_bits_per_byte,coder_bits_per_byte/);
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['step-5', 'step-20', 'final']);
    expect(lines[0]).toMatch(/,recorded_held_out_subset_loss$/);
    expect(lines[1]).toMatch(/,5\.5$/); // the trainer's own figure, beside ours
    const sizes = new Set<number>();
    for (const l of lines.slice(1)) {
      const [, , bytes, tokens, loss, modelBpb] = l.split(',').map(Number);
      sizes.add(bytes!);
      expect(bytes).toBeLessThanOrEqual(300);
      // The loss and the model's bits per byte are one quantity in two units.
      expect(loss! * tokens! / Math.LN2 / bytes!).toBeCloseTo(modelBpb!, 9);
    }
    expect(sizes.size).toBe(1); // every checkpoint codes the same bytes
  });

  it('round-trips a file through the CLI and refuses a different model', async () => {
    const input = join(tmp, 'in.bin');
    const rng = new Rng(1);
    const data = Buffer.concat([Buffer.from(text), Buffer.from(Array.from({ length: 100 }, () => rng.int(256)))]);
    writeFileSync(input, data);
    const c = await run('compress', '--backend', 'wasm', '--quiet', '--model', gpt2, input, '-o', join(tmp, 'in.nlac'));
    expect(c.code).toBe(0);
    expect(c.out).toMatch(/compressed: 2\d\d bytes/);
    const d = await run('decompress', '--backend', 'wasm', '--quiet', '--model', gpt2, join(tmp, 'in.nlac'), '-o', join(tmp, 'out.bin'));
    expect(d.code).toBe(0);
    expect(readFileSync(join(tmp, 'out.bin')).equals(data)).toBe(true);
    const bad = await run('decompress', '--backend', 'wasm', '--quiet', '--model', neox, join(tmp, 'in.nlac'), '-o', join(tmp, 'x'));
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/another model/);
    const notOurs = await run('decompress', '--backend', 'wasm', '--model', gpt2, input, '-o', join(tmp, 'x'));
    expect(notOurs.err).toMatch(/not a file written by lab compress/);
    const noOut = await run('compress', '--model', gpt2, input);
    expect(noOut.code).toBe(2);
    expect(noOut.err).toMatch(/-o OUT/);
    const noModel = await run('compress', '--model', join(tmp, 'nope'), input, '-o', join(tmp, 'x'));
    expect(noModel.err).toMatch(/config.json is missing/);
  });

  it('--report writes a compress-report run with the coder, the model and gzip/xz/zstd on the same bytes', async () => {
    const input = join(tmp, 'report.txt');
    writeFileSync(input, text.repeat(2));
    const out = join(tmp, 'run');
    const r = await run('compress', '--report', '--backend', 'wasm', '--quiet', '--no-brown', '--model', gpt2, '--out', out, input);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/coder b\/B/);
    expect(readManifest(out, { kind: 'compress-report' }).status).toBe('complete');
    const csv = readFileSync(join(out, 'report.csv'), 'utf8').trim().split('\n');
    const cols = csv[0]!.split(',');
    const row = Object.fromEntries(csv[1]!.split(',').map((v, i) => [cols[i], v]));
    expect(row.round_trip).toBe('true');
    const bytes = Buffer.byteLength(text.repeat(2));
    expect(Number(row.bytes)).toBe(bytes);
    // gzip -9 from the system tool against zlib's deflate at level 9: two implementations, near-equal sizes.
    const zlibBpb = (8 * gzipSync(text.repeat(2), { level: 9 }).length) / bytes;
    expect(Math.abs(Number(row.gzip_bits_per_byte) - zlibBpb) / zlibBpb).toBeLessThan(0.05);
    expect(Number(row.xz_bits_per_byte)).toBeGreaterThan(0);
    expect(Number(row.zstd_bits_per_byte)).toBeGreaterThan(0);
    expect(Number(row.compress_tokens_per_s)).toBeGreaterThan(0);
    expect(Number(row.forward_tokens_per_s)).toBeGreaterThan(0);
  });
});

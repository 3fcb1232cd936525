/**
 * pytorch_model.bin read without executing the pickle, against files torch.save wrote
 * (activations/testdata/torch-bin/, made by activations/peers/make_torch_bins.py; reference.json is what
 * torch.load reads back from them), plus a fuzz of mutated files: every outcome is the tensors or an
 * InputError, never another exception, never a hang.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../lab/core/backend.ts';
import { InputError, Rng } from '../../lab/core/index.ts';
import { PARITY_CASES } from '../peers/parity-specs.ts';
import { loadModel } from './load.ts';
import { writeRandomCheckpoint } from './random-checkpoint.ts';
import { TorchBinFile } from './torch-bin.ts';
import { unpickleStateDict } from './torch-pickle.ts';

const here = dirname(fileURLToPath(import.meta.url));
const data = join(here, '../testdata/torch-bin');
const reference = JSON.parse(readFileSync(join(data, 'reference.json'), 'utf8')) as {
  files: { dtypes: Record<string, { dtype: string; shape: number[]; values: number[] }> };
};
const golden = JSON.parse(readFileSync(join(here, '../testdata/parity-golden.json'), 'utf8')) as { cases: Record<string, { logits: number[][][] }> };
const tmp = mkdtempSync(join(tmpdir(), 'torch-bin-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend();
});

const FLOATS = ['f32', 'f16', 'bf16', 'f64', 'strided', 'expanded', 'scalar', 'param'];

describe('pytorch_model.bin written by torch.save', () => {
  for (const file of ['dtypes.bin', 'big-endian.bin']) {
    it(`${file}: every float tensor as torch.load reads it (dtypes, storage offsets, strides, stride 0, 0-d, Parameter)`, async () => {
      const f = await TorchBinFile.open(join(data, file));
      try {
        for (const name of FLOATS) {
          const want = reference.files.dtypes[name]!;
          expect(f.tensors.get(name)!.shape, name).toEqual(want.shape);
          const got = f.readF32(name);
          // f32 holds f16 and bf16 exactly; f64 rounds to the nearest f32.
          expect(Array.from(got), name).toEqual(want.values.map((v) => Math.fround(v)));
        }
        expect(f.tensors.get('ints')!.dtype).toBe('I64');
        expect(() => f.readF32('ints')).toThrow(/tensor 'ints' has dtype I64; expected a float tensor/);
      } finally {
        f.close();
      }
    });
  }

  it("a GPT-2 saved as pytorch_model.bin (transposed c_attn storages, lm_head sharing wte's storage) loads to the parity logits", async () => {
    const c = PARITY_CASES.find((p) => p.name === 'gpt2')!;
    const st = join(tmp, 'st');
    writeRandomCheckpoint(st, c.spec);
    const bin = join(tmp, 'bin');
    writeRandomCheckpoint(bin, c.spec);
    rmSync(join(bin, 'model.safetensors'));
    copyFileSync(join(data, 'gpt2-parity.bin'), join(bin, 'pytorch_model.bin'));
    const a = await loadModel(st);
    const b = await loadModel(bin);
    const ids = tf.tensor2d(c.ids, [c.ids.length, c.ids[0]!.length], 'int32');
    const la = a.forward(ids).logits;
    const lb = b.forward(ids).logits;
    // The same float32 weights: bit-identical logits, and within 1e-4 of the float64 PyTorch reference.
    expect(Array.from(lb.dataSync())).toEqual(Array.from(la.dataSync()));
    const want = golden.cases.gpt2!.logits.flat(2);
    const got = lb.dataSync();
    let err = 0;
    for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i]! - want[i]!));
    expect(err).toBeLessThanOrEqual(1e-4);
    expect(b.source.checksum).not.toBe(a.source.checksum);
    tf.dispose([ids, la, lb]);
    a.dispose();
    b.dispose();
  });

  it('refuses a pickle that would run os.system, naming the global, and runs nothing', async () => {
    rmSync('/tmp/neuronlab-pwned', { force: true });
    await expect(TorchBinFile.open(join(data, 'malicious.bin'))).rejects.toThrow(
      /malicious\.bin: refusing global 'posix\.system': a pytorch_model\.bin may hold only tensors and OrderedDicts/,
    );
    expect(existsSync('/tmp/neuronlab-pwned')).toBe(false);
  });

  it('refuses the pre-1.6 format and a nested checkpoint with what to do', async () => {
    await expect(TorchBinFile.open(join(data, 'legacy.bin'))).rejects.toThrow(/legacy\.bin is not a zip archive: a pytorch_model\.bin from before torch 1\.6.*convert it to model\.safetensors/);
    await expect(TorchBinFile.open(join(data, 'nested.bin'))).rejects.toThrow(/nested\.bin: state dict entry 'model' is not a tensor/);
  });

  it('refuses opcodes outside the allow-list and REDUCE of anything but an allowed global', () => {
    // pickle.dumps(set()) at protocol 2 uses GLOBAL builtins.set + REDUCE.
    expect(() => unpickleStateDict(Buffer.from('\x80\x02cbuiltins\nset\n]\x85R.', 'latin1'), 'x.pkl')).toThrow(/refusing global 'builtins\.set'/);
    expect(() => unpickleStateDict(Buffer.from('(I1\n.', 'latin1'), 'x.pkl')).toThrow(/opcode 0x49 is not one torch's weights_only unpickler allows/);
    expect(() => unpickleStateDict(Buffer.from(']q\x00h\x00a.', 'latin1'), 'x.pkl')).toThrow(/more than 32 deep \(or in a cycle\)/);
  });
});

describe('fuzz: mutated pytorch_model.bin files', () => {
  it('each mutation loads its tensors or fails with an InputError', async () => {
    const base = readFileSync(join(data, 'dtypes.bin'));
    const pickleAt = base.indexOf(Buffer.from('\x80\x02', 'latin1'));
    const rng = new Rng(15);
    const n = Number(process.env.LAB_FUZZ_CASES ?? 80);
    let opened = 0, refused = 0;
    for (let i = 0; i < n; i++) {
      const b = Buffer.from(base);
      const kind = i % 4;
      if (kind === 0) for (let j = 0; j < 1 + rng.int(4); j++) b[rng.int(b.length)] ^= 1 << rng.int(8); // bit flips anywhere
      else if (kind === 1) for (let j = 0; j < 1 + rng.int(3); j++) b[pickleAt + rng.int(300)] = rng.int(256); // bytes of the pickle
      const file = kind === 2 ? b.subarray(0, rng.int(b.length)) : b; // truncations
      if (kind === 3) b.writeUInt32LE(rng.int(2 ** 32), b.length - 22 + 16); // the central directory's offset
      const p = join(tmp, `fuzz-${i}.bin`);
      writeFileSync(p, file);
      try {
        const f = await TorchBinFile.open(p);
        try {
          for (const [name, t] of f.tensors) if (['F32', 'F16', 'BF16', 'F64'].includes(t.dtype)) f.readF32(name);
        } finally {
          f.close();
        }
        opened++;
      } catch (err) {
        if (!(err instanceof InputError)) throw new Error(`mutation ${i} (kind ${kind}) threw a ${(err as Error).constructor.name}: ${(err as Error).message}`);
        refused++;
      }
      rmSync(p);
    }
    if (process.env.LAB_FUZZ_CASES) console.log(`torch-bin fuzz: ${n} mutations, ${opened} opened, ${refused} refused`);
    expect(opened + refused).toBe(n);
    expect(refused).toBeGreaterThan(0);
  }, 60_000);
});

/**
 * Loader fidelity (issue 15): config fields honoured or refused by name, tied checkpoints that keep only
 * lm_head.weight, 2019 configs without model_type, and `--model org/name` resolved in a Hugging Face
 * cache folder laid out as huggingface_hub lays it (snapshots of symlinks into blobs/, refs/main).
 * The numbers of the config variants are checked against PyTorch in parity.test.ts.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../lab/core/backend.ts';
import { parseHfConfig } from './architecture.ts';
import './architectures.ts';
import { gpt2HfConfig } from './gpt2.ts';
import { hubCacheDir, resolveModelDir } from './hf-cache.ts';
import { loadModel } from './load.ts';
import { neoxHfConfig } from './neox.ts';
import { randomCheckpointTensors, writeRandomCheckpoint } from './random-checkpoint.ts';
import { encodeSafetensors } from './safetensors.ts';

const tmp = mkdtempSync(join(tmpdir(), 'loader-fidelity-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend();
});

const shape = { nLayers: 1, dModel: 8, nHeads: 2, vocabSize: 270, contextLength: 8 };
const P = 'x/config.json';

describe('config.json fields: implemented or refused by name', () => {
  it('an unknown field that may change the forward is an error naming it; inert ones pass', () => {
    const gpt2 = gpt2HfConfig(shape);
    expect(() => parseHfConfig({ ...gpt2, attn_logit_softcapping: 50 }, P)).toThrow(/x\/config\.json: field "attn_logit_softcapping" = 50 is not one the lab reads for gpt2/);
    expect(() => parseHfConfig({ ...gpt2, parallel_attn: true }, P)).toThrow(/field "parallel_attn"/);
    expect(() => parseHfConfig({ ...gpt2, add_cross_attention: true }, P)).toThrow(/field "add_cross_attention" = true is not supported at that value/);
    expect(() => parseHfConfig({ ...neoxHfConfig({ ...shape, nHeads: 1 }), sliding_window: 4 }, P)).toThrow(/field "sliding_window" = 4 is not one the lab reads for gpt-neox/);
    // The real gpt2 config.json's extra fields (dropouts, summary_*, task_specific_params, token ids).
    const real = { ...gpt2, attn_pdrop: 0.1, embd_pdrop: 0.1, resid_pdrop: 0.1, bos_token_id: 50256, eos_token_id: 50256, initializer_range: 0.02,
      summary_activation: null, summary_first_dropout: 0.1, summary_proj_to_labels: true, summary_type: 'cls_index', summary_use_proj: true,
      task_specific_params: { 'text-generation': { do_sample: true, max_length: 50 } }, transformers_version: '4.26.0', use_cache: true, pruned_heads: {} };
    expect(parseHfConfig(real, P).architecture).toBe('gpt2');
    expect(() => parseHfConfig({ ...real, pruned_heads: { 0: [1] } }, P)).toThrow(/"pruned_heads" = \{"0":\[1\]\} is not supported at that value/);
  });

  it('GPT-2 scaling flags are read and type-checked', () => {
    const c = parseHfConfig({ ...gpt2HfConfig(shape), scale_attn_by_inverse_layer_idx: true, reorder_and_upcast_attn: true, scale_attn_weights: false }, P);
    expect([c.scaleAttnByInverseLayerIdx, c.scaleAttnWeights]).toEqual([true, false]);
    expect(() => parseHfConfig({ ...gpt2HfConfig(shape), reorder_and_upcast_attn: 'yes' }, P)).toThrow(/"reorder_and_upcast_attn" must be true or false, got "yes"/);
  });

  it('NeoX rotary settings from every place transformers has kept them; two that disagree, unknown rope types and keys are errors', () => {
    const base = neoxHfConfig({ ...shape, nHeads: 1 }); // dHead 8
    const { rotary_pct: _p, rotary_emb_base: _b, ...bare } = base;
    const v5 = parseHfConfig({ ...bare, rope_parameters: { rope_type: 'default', rope_theta: 500, partial_rotary_factor: 0.5 } }, P);
    expect([v5.rotaryDims, v5.rotaryBase, v5.rotaryScaling]).toEqual([4, 500, undefined]);
    const v4 = parseHfConfig({ ...bare, partial_rotary_factor: 1, rope_theta: 20 }, P);
    expect([v4.rotaryDims, v4.rotaryBase]).toEqual([8, 20]);
    expect(parseHfConfig({ ...base, rope_scaling: { type: 'linear', factor: 4 } }, P).rotaryScaling).toEqual({ type: 'linear', factor: 4 });
    // Before this change a rope_parameters-only config fell back to 0.25 and 10000 silently.
    expect(() => parseHfConfig({ ...base, rope_parameters: { rope_type: 'default', rope_theta: 500 } }, P)).toThrow(
      /the rotary base is given twice and differently, "rotary_emb_base" = 10000 and "rope_parameters.rope_theta" = 500/,
    );
    expect(() => parseHfConfig({ ...base, rope_scaling: { type: 'yarn', factor: 4 } }, P)).toThrow(/rope type 'yarn' is not implemented/);
    expect(() => parseHfConfig({ ...base, rope_scaling: { type: 'dynamic', factor: 2 } }, P)).toThrow(/rope type 'dynamic' is not implemented/);
    expect(() => parseHfConfig({ ...base, rope_parameters: { rope_type: 'default', beta_fast: 32 } }, P)).toThrow(/"rope_parameters\.beta_fast" is not a rotary setting the lab implements/);
    expect(() => parseHfConfig({ ...base, use_parallel_residual: 'no' }, P)).toThrow(/"use_parallel_residual" must be true or false/);
  });

  it('model_type read from architectures when missing (2019 configs); a class the lab lacks names it', () => {
    const { model_type: _t, ...old } = gpt2HfConfig(shape);
    expect(parseHfConfig(old, P).architecture).toBe('gpt2');
    const { model_type: _n, ...neox } = neoxHfConfig({ ...shape, nHeads: 1 });
    expect(parseHfConfig(neox, P).architecture).toBe('gpt-neox');
    expect(() => parseHfConfig({ ...old, architectures: ['BertForMaskedLM'] }, P)).toThrow(/no model_type; architectures \["BertForMaskedLM"\] names none the lab reads/);
  });
});

describe('tied embeddings stored as lm_head.weight', () => {
  it('a GPT-2 saved with lm_head.weight and no wte.weight loads to the same logits; with neither, the error names the embedding', async () => {
    const spec = { ...shape, architecture: 'gpt2', seed: 9, std: 0.2 };
    const a = join(tmp, 'wte');
    writeRandomCheckpoint(a, spec);
    const b = join(tmp, 'lm-head');
    writeRandomCheckpoint(b, spec);
    const { tensors } = randomCheckpointTensors(spec);
    tensors.set('lm_head.weight', tensors.get('transformer.wte.weight')!);
    tensors.delete('transformer.wte.weight');
    writeFileSync(join(b, 'model.safetensors'), encodeSafetensors(tensors, { format: 'pt' }));
    const ma = await loadModel(a);
    const mb = await loadModel(b);
    const ids = tf.tensor2d([[1, 5, 200, 7]], [1, 4], 'int32');
    const [la, lb] = [ma.forward(ids).logits, mb.forward(ids).logits];
    expect(Array.from(lb.dataSync())).toEqual(Array.from(la.dataSync()));
    tf.dispose([ids, la, lb]);
    ma.dispose();
    mb.dispose();
    tensors.delete('lm_head.weight');
    writeFileSync(join(b, 'model.safetensors'), encodeSafetensors(tensors, { format: 'pt' }));
    await expect(loadModel(b)).rejects.toThrow(/the token embedding is missing: no tensor 'transformer\.wte\.weight' and no 'lm_head\.weight' \(tied to it\)/);
  });
});

/** Lays a model folder out as huggingface_hub's cache does: blobs named by content hash, snapshot files symlinked to them. */
function cacheModel(cache: string, repoId: string, src: string, commit: string, ref?: string): void {
  const repo = join(cache, `models--${repoId.replace('/', '--')}`);
  mkdirSync(join(repo, 'blobs'), { recursive: true });
  const snap = join(repo, 'snapshots', commit);
  mkdirSync(snap, { recursive: true });
  for (const f of readdirSync(src)) {
    const bytes = readFileSync(join(src, f));
    const blob = createHash('sha256').update(bytes).digest('hex');
    writeFileSync(join(repo, 'blobs', blob), bytes);
    symlinkSync(join('..', '..', 'blobs', blob), join(snap, f));
  }
  if (ref) {
    mkdirSync(join(repo, 'refs'), { recursive: true });
    writeFileSync(join(repo, 'refs', ref), commit);
  }
}

describe('--model org/name in the Hugging Face cache', () => {
  it('resolves refs/main, a named revision and a commit hash, offline; what is missing is named', async () => {
    const home = join(tmp, 'hf-home');
    const cache = join(home, 'hub');
    const c1 = 'a'.repeat(40);
    const c2 = 'b'.repeat(40);
    const s1 = join(tmp, 'src1');
    const s2 = join(tmp, 'src2');
    writeRandomCheckpoint(s1, { ...shape, nHeads: 1, architecture: 'gpt-neox', seed: 1 });
    writeRandomCheckpoint(s2, { ...shape, nHeads: 1, architecture: 'gpt-neox', seed: 2 });
    cacheModel(cache, 'EleutherAI/pythia-tiny', s1, c1, 'main');
    cacheModel(cache, 'EleutherAI/pythia-tiny', s2, c2, 'step1000');
    const env = { HF_HOME: home };
    expect(hubCacheDir(env)).toBe(cache);
    expect(hubCacheDir({ HF_HUB_CACHE: '/c' })).toBe('/c');
    expect(resolveModelDir('EleutherAI/pythia-tiny', undefined, env)).toBe(join(cache, 'models--EleutherAI--pythia-tiny', 'snapshots', c1));
    expect(resolveModelDir('EleutherAI/pythia-tiny', 'step1000', env)).toMatch(new RegExp(`snapshots/${c2}$`));
    expect(resolveModelDir('EleutherAI/pythia-tiny', c2, env)).toMatch(new RegExp(`snapshots/${c2}$`));
    expect(() => resolveModelDir('EleutherAI/pythia-tiny', 'step9', env)).toThrow(/revision 'step9' is not in the cache \(refs: main, step1000; snapshots: a{40}, b{40}\)/);
    expect(() => resolveModelDir('EleutherAI/pythia-big', undefined, env)).toThrow(/not in the Hugging Face cache \(looked in .*models--EleutherAI--pythia-big.*huggingface-cli download EleutherAI\/pythia-big/);
    expect(() => resolveModelDir(s1, 'main', env)).toThrow(/--revision applies to a Hugging Face repo id in the cache/);
    expect(() => resolveModelDir('../etc', undefined, env)).toThrow(/does not exist \(and is not a Hugging Face repo id/);
    // loadModel reads through the symlinks; the two revisions are different weights.
    const prev = process.env.HF_HOME;
    process.env.HF_HOME = home;
    try {
      const m = await loadModel('EleutherAI/pythia-tiny');
      const m2 = await loadModel(resolveModelDir('EleutherAI/pythia-tiny', 'step1000'));
      expect(m.source.dir).toMatch(new RegExp(`snapshots/${c1}$`));
      expect(m2.source.checksum).not.toBe(m.source.checksum);
      m.dispose();
      m2.dispose();
    } finally {
      if (prev === undefined) delete process.env.HF_HOME;
      else process.env.HF_HOME = prev;
    }
    // A partial download (no config.json in the snapshot) is named.
    renameSync(join(cache, 'models--EleutherAI--pythia-tiny', 'snapshots', c1, 'config.json'), join(tmp, 'moved.json'));
    expect(() => resolveModelDir('EleutherAI/pythia-tiny', undefined, env)).toThrow(/has no config\.json \(a partial download\?\)/);
  });
});

/** Rewrites a safetensors file's header through `edit`, keeping the data bytes (offsets are relative to the data). */
function editHeader(path: string, edit: (h: Record<string, { dtype: string }>) => void): void {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const h = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string }>;
  edit(h);
  const hb = Buffer.from(JSON.stringify(h));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(hb.length));
  writeFileSync(path, Buffer.concat([len, hb, buf.subarray(8 + n)]));
}

describe('an F16 <-> BF16 swapped header dtype (issue 19)', () => {
  it('without torch_dtype, either swap is refused naming the tensor; the genuine file and a stated torch_dtype load', async () => {
    const dir = join(tmp, 'half');
    writeRandomCheckpoint(dir, { ...shape, dModel: 32, nHeads: 4, architecture: 'gpt2', dtype: 'f16', seed: 3 });
    const cfgPath = join(dir, 'config.json');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
    delete cfg.torch_dtype;
    writeFileSync(cfgPath, JSON.stringify(cfg));
    (await loadModel(dir)).dispose(); // genuine F16 weights, spread about 8 octaves
    const st = join(dir, 'model.safetensors');
    editHeader(st, (h) => Object.entries(h).forEach(([k, t]) => k !== '__metadata__' && (t.dtype = 'BF16')));
    await expect(loadModel(dir)).rejects.toThrow(/tensor 'transformer\.wte\.weight' is stored as BF16, but its values span \d+ octaves .* what F16 bits read as BF16 look like/);
    // Genuine BF16 (f32 weights cut to their top 16 bits) labelled F16.
    const f32 = join(tmp, 'half-f32');
    writeRandomCheckpoint(f32, { ...shape, dModel: 32, nHeads: 4, architecture: 'gpt2', seed: 3 });
    const raw = readFileSync(join(f32, 'model.safetensors'));
    const n = Number(raw.readBigUInt64LE(0));
    const header = JSON.parse(raw.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
    const data = raw.subarray(8 + n);
    const parts: Buffer[] = [];
    let off = 0;
    for (const name of Object.keys(header).filter((k) => k !== '__metadata__').sort((a, b) => header[a]!.data_offsets[0] - header[b]!.data_offsets[0])) {
      const t = header[name]!;
      const src = data.subarray(t.data_offsets[0], t.data_offsets[1]);
      const half = Buffer.alloc(src.length / 2);
      for (let i = 0; i < half.length / 2; i++) half.writeUInt16LE(src.readUInt16LE(4 * i + 2), 2 * i);
      t.dtype = 'F16';
      t.data_offsets = [off, off + half.length];
      off += half.length;
      parts.push(half);
    }
    const hb = Buffer.from(JSON.stringify(header));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(hb.length));
    writeFileSync(st, Buffer.concat([len, hb, ...parts]));
    await expect(loadModel(dir)).rejects.toThrow(/is stored as F16, but its values span [012] octaves .* what BF16 bits read as F16 look like/);
    // Stated in config.json, the header is corroborated and not second-guessed.
    writeFileSync(cfgPath, JSON.stringify({ ...cfg, torch_dtype: 'float16' }));
    (await loadModel(dir)).dispose();
  });
});

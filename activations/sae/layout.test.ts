import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../lab/core/index.ts';
import { encodeSafetensors, SafetensorsFile } from '../models/index.ts';
import { readSae, writeSae, hookLayer } from './layout.ts';
import { encodeDecode, type Sae, type SaeArch } from './model.ts';

const tmp = mkdtempSync(join(tmpdir(), 'sae-layout-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function sae(arch: SaeArch, seed: number): Sae {
  const rng = new Rng(seed);
  const f = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  return { arch, dIn: 6, dSae: 10, k: arch === 'topk' ? 3 : 0, W_enc: f(60), b_enc: f(10), W_dec: f(60), b_dec: f(6), ...(arch === 'jumprelu' ? { threshold: f(10).map(Math.abs) } : {}) };
}

describe('SAELens layout', () => {
  for (const arch of ['topk', 'relu-l1', 'jumprelu'] as const) {
    it(`${arch}: write, read, same outputs; tensor names and shapes as SAELens`, () => {
      const dir = join(tmp, arch);
      const s = sae(arch, 1);
      writeSae(dir, s, { hookName: 'blocks.2.mlp.hook_post', modelName: 'gpt2' });
      const cfg = JSON.parse(readFileSync(join(dir, 'cfg.json'), 'utf8'));
      expect(cfg).toMatchObject({ d_in: 6, d_sae: 10, architecture: { topk: 'topk', 'relu-l1': 'standard', jumprelu: 'jumprelu' }[arch], dtype: 'float32', apply_b_dec_to_input: true, normalize_activations: 'none', meta: { hook_name: 'blocks.2.mlp.hook_post', hook_layer: 2, model_name: 'gpt2' } });
      if (arch === 'topk') expect(cfg.k).toBe(3);
      const f = SafetensorsFile.open(join(dir, 'sae_weights.safetensors'));
      const shapes = Object.fromEntries([...f.tensors.values()].map((t) => [t.name, t.shape]));
      f.close();
      expect(shapes).toEqual({ W_enc: [6, 10], b_enc: [10], W_dec: [10, 6], b_dec: [6], ...(arch === 'jumprelu' ? { threshold: [10] } : {}) });
      const back = readSae(dir);
      expect(back.meta.hookName).toBe('blocks.2.mlp.hook_post');
      const x = Float32Array.from({ length: 30 }, (_, i) => Math.sin(i));
      const a = encodeDecode(s, x, 5), b = encodeDecode(back.sae, x, 5);
      expect([...b.acts]).toEqual([...a.acts]);
      expect([...b.recon]).toEqual([...a.recon]);
    });
  }

  it('reads an older SAELens cfg (flat hook_name, architecture standard) and refuses wrong shapes by name', () => {
    const dir = join(tmp, 'old');
    mkdirSync(dir, { recursive: true });
    const s = sae('relu-l1', 2);
    writeFileSync(join(dir, 'cfg.json'), JSON.stringify({ architecture: 'standard', d_in: 6, d_sae: 10, hook_name: 'blocks.0.hook_resid_pre', hook_layer: 0, model_name: 'gpt2-small', activation_fn_str: 'relu', apply_b_dec_to_input: true, normalize_activations: 'none' }));
    const t = (W_dec: number[]) => new Map([
      ['W_enc', { dtype: 'f32' as const, shape: [6, 10], data: s.W_enc }], ['b_enc', { dtype: 'f32' as const, shape: [10], data: s.b_enc }],
      ['W_dec', { dtype: 'f32' as const, shape: W_dec, data: s.W_dec }], ['b_dec', { dtype: 'f32' as const, shape: [6], data: s.b_dec }],
    ]);
    writeFileSync(join(dir, 'sae_weights.safetensors'), encodeSafetensors(t([10, 6])));
    const r = readSae(dir);
    expect(r.sae.arch).toBe('relu-l1');
    expect(r.meta).toMatchObject({ hookName: 'blocks.0.hook_resid_pre', modelName: 'gpt2-small' });
    writeFileSync(join(dir, 'sae_weights.safetensors'), encodeSafetensors(t([6, 10])));
    expect(() => readSae(dir)).toThrow(/W_dec has shape \[6,10\], expected \[10,6\] from cfg\.json/);
    writeFileSync(join(dir, 'cfg.json'), JSON.stringify({ architecture: 'gated', d_in: 6, d_sae: 10, hook_name: 'x' }));
    expect(() => readSae(dir)).toThrow(/architecture 'gated' is not supported/);
    writeFileSync(join(dir, 'cfg.json'), JSON.stringify({ architecture: 'topk', d_in: 6, d_sae: 10, k: 11, hook_name: 'x' }));
    expect(() => readSae(dir)).toThrow(/needs k in 1\.\.d_sae \(10\); got 11/);
  });

  it('hook layers from TransformerLens names', () => {
    expect(hookLayer('blocks.11.hook_resid_post')).toBe(11);
    expect(hookLayer('instance.3.hook_hidden')).toBe(0);
  });
});

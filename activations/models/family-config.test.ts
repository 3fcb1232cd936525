/**
 * config.json fields of the new families that the lab cannot honour are refused, each error naming
 * the file and the field; the ones it honours parse to the values the HF config classes mean.
 */
import { describe, expect, it } from 'vitest';
import { architecture, parseHfConfig } from './architecture.ts';
import './architectures.ts';
import { rotaryInvFreq } from './rotary.ts';

const P = 'm/config.json';
const hf = (name: string) => architecture(name).hfConfig({ nLayers: 4, dModel: 32, nHeads: 4, vocabSize: 300, contextLength: 64 });
const parse = (name: string, extra: Record<string, unknown>) => parseHfConfig({ ...hf(name), ...extra }, P);

describe('new family configs', () => {
  it('refuses what the lab cannot honour, naming the field', () => {
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['llama', { quantization_config: { bits: 4 } }, /m\/config\.json: config field "quantization_config".*not one the lab knows for model_type llama/],
      ['llama', { rope_scaling: { rope_type: 'yarn', factor: 4 } }, /"rope_scaling" rope type "yarn" is not implemented/],
      ['llama', { rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1 } }, /"rope_scaling\.high_freq_factor" must be a positive number/],
      ['qwen2', { rope_parameters: { rope_type: 'dynamic', factor: 2, rope_theta: 1e6 } }, /"rope_parameters" rope type "dynamic"/],
      ['qwen2', { use_mrope: true }, /"use_mrope" is true; the lab implements only false/],
      ['llama', { num_key_value_heads: 3 }, /num_key_value_heads 3 must divide num_attention_heads 4/],
      ['qwen2', { use_sliding_window: true, layer_types: ['full_attention', 'chunked_attention', 'full_attention', 'full_attention'] }, /"layer_types"\[1\] is "chunked_attention"/],
      ['mistral', { attention_bias: true }, /config field "attention_bias"/],
      ['opt', { do_layer_norm_before: false }, /"do_layer_norm_before" is false; the lab implements only true \(post-LN OPT/],
      ['opt', { word_embed_proj_dim: 16 }, /"word_embed_proj_dim" is 16; the lab implements only 32/],
      ['gptj', { rotary_dim: null }, /"rotary_dim" null/],
      ['gpt-neo', { attention_types: [[['global', 'local'], 1]] }, /attention_types expand to 2 layers but num_layers is 4/],
      ['gpt-neo', { attention_types: [[['global', 'sparse'], 2]] }, /attention type "sparse" of layer 1/],
      ['gemma2', { layer_types: ['full_attention'] }, /"layer_types" must list 4 layer types/],
      ['gemma', { attn_logit_softcapping: 50 }, /config field "attn_logit_softcapping".*model_type gemma/],
      // Inert only at their defaults (config-checks.ts), as for GPT-2 and GPT-NeoX.
      ['llama', { pruned_heads: { 0: [1] } }, /config field "pruned_heads".*not one the lab knows for model_type llama/],
      ['opt', { is_encoder_decoder: true }, /config field "is_encoder_decoder"/],
    ];
    for (const [name, extra, msg] of cases) expect(() => parse(name, extra), `${name} ${JSON.stringify(extra)}`).toThrow(msg);
    // ...and accepted at them.
    expect(() => parse('llama', { pruned_heads: {}, is_encoder_decoder: false, use_cache: true, pretraining_tp: 1 })).not.toThrow();
  });

  it('reads windows, soft caps, scales and rope settings as the HF classes define them', () => {
    expect(parse('mistral', { sliding_window: 5 }).slidingWindows).toEqual([5, 5, 5, 5]);
    expect(parse('mistral', { sliding_window: null }).slidingWindows).toBeUndefined();
    // Qwen2: the first max_window_layers layers attend fully, the rest within the window.
    expect(parse('qwen2', { use_sliding_window: true, sliding_window: 7, max_window_layers: 2 }).slidingWindows).toEqual([0, 0, 7, 7]);
    expect(parse('qwen2', { use_sliding_window: false, sliding_window: 7 }).slidingWindows).toBeUndefined();
    const g2 = parse('gemma2', { sliding_window: 9, query_pre_attn_scalar: 16, final_logit_softcapping: null });
    expect(g2.slidingWindows).toEqual([9, 0, 9, 0]);
    expect(g2.attnScale).toBeCloseTo(0.25, 12);
    expect(g2.attnSoftcap).toBe(50);
    expect(g2.finalSoftcap).toBeUndefined();
    expect(parse('gemma', {}).embedScale).toBeCloseTo(Math.sqrt(32), 12);
    expect(parse('gpt-neo', { window_size: 3 }).slidingWindows).toEqual([0, 3, 0, 3]);
    expect(parse('gpt-neo', {}).attnScale).toBe(1);
    // Newer transformers keep rope_theta under rope_parameters.
    expect(parse('llama', { rope_theta: undefined, rope_parameters: { rope_type: 'default', rope_theta: 5e5 } }).rotaryBase).toBe(5e5);
  });

  it('llama3 rope scaling: kept above high_freq_factor, divided below low_freq_factor, interpolated between', () => {
    const cfg = { rotaryDims: 8, rotaryBase: 10000 };
    const plain = rotaryInvFreq(cfg); // 1, 0.1, 0.01, 0.001: wavelengths 6.3, 63, 628, 6283
    const s = rotaryInvFreq({ ...cfg, rotaryScaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 64 } });
    expect(s[0]).toBeCloseTo(plain[0]!, 15);
    expect(s[2]).toBeCloseTo(plain[2]! / 8, 15);
    expect(s[3]).toBeCloseTo(plain[3]! / 8, 15);
    // wavelength 62.8 between 16 and 64: smooth = (64 / 62.8 - 1) / 3, a blend of f / 8 and f.
    const smooth = (64 / ((2 * Math.PI) / plain[1]!) - 1) / 3;
    expect(s[1]).toBeCloseTo((1 - smooth) * (plain[1]! / 8) + smooth * plain[1]!, 15);
  });
});

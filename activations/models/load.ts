/**
 * loadModel(dir): a Hugging Face model folder (config.json, safetensors, tokenizer.json) as a
 * LanguageModel. Weights are read and uploaded one tensor at a time; their shapes and dtypes are
 * checked against what config.json implies.
 */
import { join } from 'node:path';
import { initBackend, tf } from '../../lab/core/backend.ts';
import { InputError } from '../../lab/core/index.ts';
import type { ForwardOptions, ForwardResult, HookName, KVCache, LanguageModel, Tokenizer } from '../types.ts';
import { CheckpointReader, readConfigJson } from './checkpoint.ts';
import { parseHfConfig, type TransformerConfig } from './config.ts';
import { createGpt2, gpt2TensorShapes } from './gpt2.ts';
import { allHookNames } from './hooks.ts';
import { neoxParams, neoxTensorShapes } from './neox.ts';
import { loadTokenizer } from './tokenizer.ts';
import { TransformerKVCache, transformerForward, type Params } from './transformer.ts';

export class TransformerModel implements LanguageModel {
  private disposed = false;

  constructor(
    readonly config: TransformerConfig,
    readonly tokenizer: Tokenizer,
    readonly source: { dir: string; checksum: string },
    private readonly params: Params,
    private readonly release: () => void,
  ) {}

  hookNames(): HookName[] {
    return allHookNames(this.config.nLayers, this.config.architecture === 'gpt2');
  }

  forward(ids: tf.Tensor2D, opts?: ForwardOptions): ForwardResult {
    if (this.disposed) throw new Error(`model from ${this.source.dir} was disposed`);
    return transformerForward(this.config, this.params, ids, opts);
  }

  newKVCache(batch: number): KVCache {
    return new TransformerKVCache(batch, this.config.nLayers);
  }

  dispose(): void {
    if (!this.disposed) this.release();
    this.disposed = true;
  }
}

/** Loads a GPT-2 or GPT-NeoX folder in the Hugging Face layout. */
export async function loadModel(dir: string): Promise<LanguageModel> {
  await initBackend();
  const cfgPath = join(dir, 'config.json');
  const cfg = parseHfConfig(readConfigJson(dir), cfgPath);
  const tokenizer = loadTokenizer(dir);
  if (tokenizer.vocabSize > cfg.vocabSize) {
    throw new InputError(`${join(dir, 'tokenizer.json')} has ${tokenizer.vocabSize} tokens but config.json vocab_size is ${cfg.vocabSize}`, join(dir, 'tokenizer.json'));
  }
  const reader = new CheckpointReader(dir);
  try {
    if (cfg.architecture === 'gpt2') {
      // The original GPT-2 uploads name tensors without the `transformer.` prefix (GPT2Model); later saves add it.
      const prefixed = reader.has('transformer.wte.weight');
      const weights = new Map<string, tf.Tensor>();
      try {
        for (const [name, shape] of gpt2TensorShapes(cfg)) {
          const stored = prefixed || name === 'lm_head.weight' ? name : name.replace(/^transformer\./, '');
          weights.set(name, tf.tensor(reader.read(stored, shape, cfg.weightDtype), shape));
        }
        reader.checkAllUsed(cfg.tiedEmbeddings);
        const model = createGpt2(cfg, weights, { trainable: false });
        const unembedT = tf.transpose(model.params.unembed);
        const release = () => {
          unembedT.dispose();
          model.dispose();
        };
        return new TransformerModel(cfg, tokenizer, { dir, checksum: reader.checksum() }, { ...model.params, unembedT }, release);
      } finally {
        tf.dispose([...weights.values()]);
      }
    }
    const shapes = neoxTensorShapes(cfg);
    const params = neoxParams(cfg, (name) => reader.read(name, shapes.get(name)!, cfg.weightDtype));
    reader.checkAllUsed(cfg.tiedEmbeddings);
    params.unembedT = tf.transpose(params.unembed);
    const all = [params.embed, params.unembed, params.unembedT, params.lnfg, params.lnfb, ...params.layers.flatMap((l) => Object.values(l) as tf.Tensor[])];
    return new TransformerModel(cfg, tokenizer, { dir, checksum: reader.checksum() }, params, () => tf.dispose([...new Set(all)]));
  } finally {
    reader.close();
  }
}

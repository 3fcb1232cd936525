/**
 * loadModel(dir): a Hugging Face model folder (config.json, safetensors, tokenizer.json) as a
 * LanguageModel. Weights are read and uploaded one tensor at a time; their shapes and dtypes are
 * checked against what config.json implies.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend, tf } from '../../lab/core/backend.ts';
import { InputError } from '../../lab/core/index.ts';
import type { ForwardOptions, ForwardResult, HookName, KVCache, LanguageModel, Tokenizer } from '../types.ts';
import { architecture, parseHfConfig } from './architecture.ts';
// Run for its effect: registers the built-in architectures.
import './architectures.ts';
import { CheckpointReader, readConfigJson } from './checkpoint.ts';
import { resolveModelDir } from './hf-cache.ts';
import type { TransformerConfig } from './config.ts';
import { allHookNames } from './hooks.ts';
import { loadTokenizer } from './tokenizer.ts';
import { normalize, TransformerKVCache, transformerForward, type Params } from './transformer.ts';

export class TransformerModel implements LanguageModel {
  private disposed = false;

  constructor(
    readonly config: TransformerConfig,
    readonly tokenizer: Tokenizer,
    readonly source: { dir: string; checksum: string },
    /** The canonical parameters (transformer.ts) the forward reads; activations/models/onnx builds its graph from them. */
    readonly params: Params,
    private readonly release: () => void,
  ) {}

  hookNames(): HookName[] {
    return allHookNames(this.config.nLayers, architecture(this.config.architecture).positional, this.config);
  }

  forward(ids: tf.Tensor2D, opts?: ForwardOptions): ForwardResult {
    if (this.disposed) throw new Error(`model from ${this.source.dir} was disposed`);
    return transformerForward(this.config, this.params, ids, opts);
  }

  /**
   * Residual vectors x [n, d] projected to the vocabulary through the unembedding W_U (the embedding
   * itself when tied), optionally through the final layer norm first (the logit lens): [n, vocab].
   */
  projectToVocab(x: tf.Tensor2D, finalNorm = false): tf.Tensor2D {
    const p = this.params;
    return tf.tidy(() => tf.matMul(finalNorm ? (normalize(this.config, x, p.lnfg, p.lnfb) as tf.Tensor2D) : x, p.unembedT ?? tf.transpose(p.unembed)));
  }

  newKVCache(batch: number): KVCache {
    return new TransformerKVCache(batch, this.config.nLayers);
  }

  dispose(): void {
    if (!this.disposed) this.release();
    this.disposed = true;
  }
}

/**
 * Loads a model folder in the Hugging Face layout, of any registered architecture (architectures.ts);
 * a path that does not exist is looked up as a Hub repo id in the local Hugging Face cache (hf-cache.ts,
 * refs/main; commands with --revision resolve it first with resolveModelDir).
 */
export async function loadModel(model: string): Promise<LanguageModel> {
  const dir = existsSync(model) ? model : resolveModelDir(model);
  await initBackend();
  const cfgPath = join(dir, 'config.json');
  const cfg = parseHfConfig(readConfigJson(dir), cfgPath);
  const tokenizer = loadTokenizer(dir);
  if (tokenizer.vocabSize > cfg.vocabSize) {
    throw new InputError(`${join(dir, 'tokenizer.json')} has ${tokenizer.vocabSize} tokens but config.json vocab_size is ${cfg.vocabSize}`, join(dir, 'tokenizer.json'));
  }
  const reader = await CheckpointReader.open(dir);
  try {
    const { params, dispose } = architecture(cfg.architecture).loadParams(cfg, reader);
    try {
      // A tensor the config does not use means the config and the checkpoint disagree (fewer layers, say).
      reader.checkAllUsed(cfg.tiedEmbeddings);
    } catch (err) {
      dispose();
      throw err;
    }
    // The [d, vocab] copy of the unembedding (tfjs-wasm's transposeB matMul is several times slower) is
    // made by the first product that needs it: a harvest's forward (logits: false) never does, which
    // saves its size (GPT-2 small: 0.15 GB) in every forward thread's wasm heap.
    let unembedT: tf.Tensor2D | undefined;
    const lazy = Object.defineProperty({ ...params }, 'unembedT', {
      get: () => (unembedT ??= tf.keep(tf.transpose(params.unembed))),
      enumerable: true,
    });
    const release = () => {
      unembedT?.dispose();
      dispose();
    };
    return new TransformerModel(cfg, tokenizer, { dir, checksum: reader.checksum() }, lazy, release);
  } finally {
    reader.close();
  }
}

/** `lab harvest`: a thin layer over harvestModel / harvestToy. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism, freemem } from 'node:os';
import { parseFlags, required, usage, type FlagSpecs } from './args.ts';
import { InputError, UsageError } from '../core/index.ts';
import { queueFlags, queueFlagValues } from './queue-flags.ts';
import { readJson } from '../core/index.ts';
import { checkDatasetName, datasetNames, tableFormat, TEXT_SOURCES } from '../../activations/kinds.ts';
import type { Aggregation, HarvestEngine, HarvestOptions, HarvestResult, StoreDtype } from '../../activations/index.ts';

/** The flags; `modelTypes` (the architecture registry's, which needs the model code) only for --help. */
const specs = (modelTypes = 'gpt2, gpt_neox, ...: see --help'): FlagSpecs => ({
  model: { type: 'string', help: `Hugging Face model folder (model_type ${modelTypes}), a Hub repo id in the local Hugging Face cache (org/name), or toy:RUN_DIR for a toy run (required)` },
  revision: { type: 'string', help: 'with a Hub repo id: the cached branch, tag or commit (default main)' },
  dataset: { type: 'string', help: `feature dataset: ${datasetNames().join(', ')}, or a file of your own labelled text (.jsonl, .csv, .parquet: see activations/README.md) (not with toy:)` },
  'text-column': { type: 'string', help: "--dataset FILE: the column (JSON key) holding the text (default 'text')" },
  'label-column': { type: 'list', help: "--dataset FILE: label column(s): one of class names (one-hot) or of 0/1, or several 0/1 columns (default 'label', else 'labels', else 'spans')" },
  hooks: { type: 'list', help: "hook names or globs, comma-separated (default 'blocks.*.mlp.hook_post'; toy: all instances; with --sae: the SAE's hook)" },
  sae: { type: 'string', help: "SAE folder (SAELens layout, lab sae train): store its latents over its hook instead of the hook's values, as hook '<hook>.hook_sae_acts_post'" },
  'max-tokens': { type: 'int', min: 1, default: 100_000, help: 'tokens to harvest (toy: samples)' },
  context: { type: 'int', min: 2, help: "tokens per sequence, BOS included (default 128, or the model's context if shorter)" },
  aggregation: { type: 'string', choices: ['none', 'mean', 'max'], help: 'per token (none) or mean/max over each sequence (default: none for token datasets, mean for brown-genre)' },
  dtype: { type: 'string', choices: ['f32', 'f16', 'u8'], default: 'f32', help: 'stored value type' },
  quant: { type: 'string', choices: ['per-neuron', 'per-tensor'], default: 'per-neuron', help: 'u8 scale/offset granularity' },
  seed: { type: 'int', default: 0, help: 'fixes the order of documents (toy: the samples)' },
  out: { type: 'string', help: 'run directory to write (required)' },
  instance: { type: 'int', min: 0, help: 'toy: harvest only this instance' },
  batch: { type: 'int', min: 1, help: 'sequences per forward pass (default 8; toy: samples, default 1024)' },
  engine: { type: 'string', choices: ['onnx', 'tfjs'], help: "model sources: what runs the forward. onnx: the lab's forward as one ONNX Runtime graph on native CPU kernels, one copy of the weights (default for local harvests of models under 2 GiB of float32 weights on the wasm backend); tfjs: the tfjs forward (with --queue, --backend node or node-gpu, and larger models)" },
  threads: { type: 'int', min: 1, max: 64, help: 'forward-pass threads. --engine onnx: native threads of its one session (default: every core). --engine tfjs: this one and N - 1 worker threads, each with its own wasm backend and copy of the model (default: 2 on the wasm backend with 2+ cores when 2 copies of the weights fit in half the free memory, else 1; 1 runs in-process alone); with --queue, the workers split each batch as this many threads would' },
  source: { type: 'string', choices: TEXT_SOURCES, help: 'text for text-props, compound-words, token-props, affixes and compound-bigrams (default brown)' },
  align: { type: 'string', choices: ['all', 'first'], default: 'all', help: 'brown-pos: label every token of a word or only its first' },
  'chunk-mb': { type: 'number', min: 0.001, default: 64, help: 'chunk size in MiB of f32 values over all hooks' },
  overwrite: { type: 'boolean', help: 'replace a store in --out that has a different config' },
  ...queueFlags('chunks (workers must share the file system of --out, at the same path)'),
  backend: { type: 'string', help: 'force a tfjs backend: node-gpu, node, wasm or cpu' },
  json: { type: 'boolean', help: 'print the result as JSON on stdout' },
  quiet: { type: 'boolean', help: 'no progress bar' },
  help: { type: 'boolean', help: 'show this help' },
});

export async function harvestCommand(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, specs());
  const f = parsed.flags;
  if (f.help) {
    const { supportedModelTypes } = await import('../../activations/index.ts');
    process.stdout.write(usage('harvest', 'Runs a model over labelled text (or a toy model over its own data) and stores hook activations with labels.', specs(supportedModelTypes().join(', '))) + '\n');
    return 0;
  }
  if (parsed.positionals.length) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
  const modelArg = required<string>(parsed, 'model');
  const out = required<string>(parsed, 'out');
  const opts: HarvestOptions = {
    out,
    seed: f.seed as number,
    maxTokens: f['max-tokens'] as number,
    dtype: f.dtype as StoreDtype,
    quantisation: f.quant === 'per-tensor' ? 'per_tensor' : 'per_neuron',
    aggregation: f.aggregation as Aggregation | undefined,
    batch: f.batch as number | undefined,
    chunkMb: f['chunk-mb'] as number,
    overwrite: Boolean(f.overwrite),
    silent: Boolean(f.quiet),
    command: ['lab', 'harvest', ...argv].join(' '),
  };
  let datasetFile: string | undefined;
  if (!modelArg.startsWith('toy:')) {
    if (f.instance !== undefined) throw new UsageError('--instance applies only to toy: sources', 'instance');
    const d = required<string>(parsed, 'dataset');
    // A value with a table extension or a path separator is a file; anything else a registered name.
    if (tableFormat(d) !== undefined || d.includes('/')) datasetFile = d;
    else checkDatasetName(d, 'dataset');
  }
  if (!datasetFile && (f['text-column'] !== undefined || f['label-column'] !== undefined)) {
    throw new UsageError('--text-column and --label-column apply to --dataset FILE (a .jsonl, .csv or .parquet file)', f['text-column'] !== undefined ? 'text-column' : 'label-column');
  }
  const q = queueFlagValues(f);
  if (q && modelArg.startsWith('toy:')) throw new UsageError('--queue applies to model sources (a toy harvest is generated in-process in seconds)', 'queue');
  // Workers rebuild the dataset from its registered name and options; a user's file would have to travel to every machine.
  if (q && datasetFile) throw new UsageError('--queue applies to registered datasets; harvest --dataset FILE locally (or register the dataset: activations/datasets/ADDING_A_DATASET.md)', 'queue');
  if (q && f.sae !== undefined) throw new UsageError('--sae applies to local harvests (the queue workers store hook values; encode the queued store with `lab sae encode`)', 'sae');
  const { activeBackend, initBackend } = await import('../core/backend.ts');
  const { harvestModel, harvestToy, loadModel, makeDataset, readUserTable, userFileDataset, readSae, saeHookEncoder, useTfMatMul, ONNX_MAX_MODEL_BYTES } = await import('../../activations/index.ts');
  await initBackend(f.backend as string | undefined);
  if (f.sae !== undefined) {
    // The encoder's dense product on tfjs (the backend just chosen); small SAEs stay in the JS loop.
    await useTfMatMul(f.backend as string | undefined);
    opts.encoder = saeHookEncoder(readSae(f.sae as string));
  }
  let result: HarvestResult;
  if (modelArg.startsWith('toy:')) {
    if (f.threads !== undefined) throw new UsageError('--threads applies to model sources (toy forwards are small and run in-process)', 'threads');
    if (f.engine !== undefined) throw new UsageError('--engine applies to model sources (toy forwards run in-process on the lab\'s own kernels)', 'engine');
    if (f.dataset !== undefined) throw new UsageError('--dataset does not apply to toy: sources (the toy generator supplies inputs and labels)', 'dataset');
    const dir = checkDir(modelArg.slice(4));
    result = await harvestToy(dir, { ...opts, instance: f.instance as number | undefined, hooks: f.hooks as string[] | undefined });
  } else {
    const dataset = f.dataset as string;
    const { resolveModelDir } = await import('../../activations/index.ts');
    const dir = checkDir(resolveModelDir(modelArg, f.revision as string | undefined));
    if (!existsSync(join(dir, 'config.json')) && existsSync(join(dir, 'manifest.json'))) {
      const kind = readJson<{ kind?: string }>(join(dir, 'manifest.json')).kind;
      if (kind === 'toy') throw new UsageError(`--model ${dir} is a toy run: use --model toy:${dir} (and no --dataset)`, 'model');
    }
    // A user's file is read and checked whole before the model loads, so a bad line fails fast.
    const table = datasetFile
      ? await readUserTable(datasetFile, { textColumn: f['text-column'] as string | undefined, labelColumns: f['label-column'] as string[] | undefined })
      : undefined;
    // The engine is chosen before the model loads: the onnx engine reads the weights to the host to build
    // its graph, so (unless a backend was asked for, or an SAE encodes on it) the model loads on tfjs'
    // cpu backend, whose tensors are host arrays: no upload to a wasm heap and copy back (1.3 s and one
    // copy of the weights for GPT-2 small), and no XNNPACK-packed copies.
    opts.engine = (f.engine as HarvestEngine | undefined) ?? defaultEngine(dir, activeBackend(), q !== undefined, ONNX_MAX_MODEL_BYTES);
    if (opts.engine === 'onnx' && q) throw new UsageError("--engine onnx runs locally; the queue's workers run the tfjs engine (drop --engine, or --queue)", 'engine');
    if (opts.engine === 'onnx' && f.backend === undefined && process.env.LAB_BACKEND === undefined && f.sae === undefined) await initBackend('cpu');
    const model = await loadModel(dir);
    try {
      const datasetOptions = {
        context: (f.context as number | undefined) ?? Math.min(128, model.config.contextLength), seed: f.seed as number, source: f.source as 'brown' | undefined, align: f.align as 'all' | 'first',
      };
      const ds = table
        ? userFileDataset(model.tokenizer, table, { context: datasetOptions.context, seed: datasetOptions.seed })
        : makeDataset(dataset, model.tokenizer, datasetOptions);
      // tfjs-wasm computes on one thread per Node thread: the forward passes run on this thread and on
      // worker threads, one per core (up to 2 by default), each holding its own copy of the weights. With
      // --queue the same count decides how the workers split each batch, so the store is this command's
      // local store.
      opts.threads = (f.threads as number | undefined) ?? (opts.engine === 'onnx' ? availableParallelism() : defaultThreads(dir, activeBackend()));
      const hooks = (f.hooks as string[] | undefined) ?? (opts.encoder ? undefined : ['blocks.*.mlp.hook_post']);
      if (q) {
        const { parseQueueUrl, queuedHarvest } = await import('../queue/index.ts');
        result = await queuedHarvest(model, ds, hooks ?? [], {
          ...opts, addr: parseQueueUrl(q.url), settings: q.settings, clearQueue: q.clearQueue, dataset, datasetOptions, backend: activeBackend() ?? 'wasm',
        });
      } else result = await harvestModel(model, ds, hooks, opts);
    } finally {
      model.dispose();
    }
  }
  const m = result.manifest;
  const summary = {
    out: result.dir, already_complete: result.alreadyComplete, resumed_from_chunk: result.resumedFromChunk,
    rows: m.total_rows, tokens: m.total_tokens, sequences: m.total_sequences, chunks: m.chunks.length,
    hooks: m.hooks.map((h) => h.name), features: m.dataset.features, dtype: m.dtype,
    seconds: +result.seconds.toFixed(3), tokens_per_second: +result.tokensPerSecond.toFixed(1),
  };
  if (f.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  else {
    process.stdout.write(
      result.alreadyComplete
        ? `${out}: already complete (${m.total_rows} rows); nothing to do\n`
        : `${out}: ${m.total_rows} rows x ${m.hooks.length} hooks (${m.dtype}), ${m.total_tokens} tokens, ${m.chunks.length} chunks` +
            `${result.resumedFromChunk ? `, resumed after chunk ${result.resumedFromChunk - 1}` : ''}, ${summary.tokens_per_second} tok/s\n`,
    );
  }
  return 0;
}

function checkDir(dir: string): string {
  if (!dir) throw new UsageError('--model needs a folder', 'model');
  if (!existsSync(dir)) throw new InputError(`--model ${dir} does not exist`, dir);
  if (!statSync(dir).isDirectory()) throw new InputError(`--model ${dir} is not a folder`, dir);
  return dir;
}

/** Float32 bytes of a checkpoint's weights, bounded from its safetensors files (f16/bf16 ones double). */
function float32WeightBytes(dir: string): number {
  return readdirSync(dir).filter((n) => n.endsWith('.safetensors')).reduce((a, n) => a + statSync(join(dir, n)).size * 2, 0);
}

/**
 * The onnx engine unless the harvest is queued (the workers run tfjs), a native or GPU tfjs backend is
 * active (tfjs-node, tfjs-node-gpu), or the weights pass ONNX's 2 GiB model limit (then tfjs, with a note).
 */
function defaultEngine(dir: string, backend: string | undefined, queued: boolean, onnxLimit: number): HarvestEngine {
  if (queued || (backend !== 'wasm' && backend !== 'cpu')) return 'tfjs';
  // An upper bound (every checkpoint counted as f16, doubled), against the engine's own limit.
  const bytes = float32WeightBytes(dir);
  if (bytes > onnxLimit) {
    process.stderr.write(`harvest: the tfjs engine (up to ${(bytes / 2 ** 30).toFixed(1)} GiB of float32 weights; the onnx engine's models stop at 2 GiB)\n`);
    return 'tfjs';
  }
  return 'onnx';
}

/**
 * 2 forward threads on the wasm backend with 2+ cores, when two float32 copies of the weights (this
 * thread's and the worker's) fit in half the free memory; else 1 (in-process), with a note.
 */
function defaultThreads(dir: string, backend: string | undefined): number {
  if (backend !== 'wasm' || availableParallelism() < 2) return 1;
  // Safetensors bytes x 2 bounds the float32 size in memory (f16/bf16 checkpoints double).
  const weightBytes = float32WeightBytes(dir);
  if (2 * weightBytes > 0.5 * freemem()) {
    process.stderr.write(`harvest: one thread (a forward worker would hold a second copy of ${(weightBytes / 2 ** 30).toFixed(1)} GiB of weights; free memory ${(freemem() / 2 ** 30).toFixed(1)} GiB); --threads 2 forces it\n`);
    return 1;
  }
  return 2;
}

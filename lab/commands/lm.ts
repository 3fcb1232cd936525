/**
 * `lab lm train`: the lab's own GPT-2 on the Brown corpus, saved in the Hugging Face layout with its
 * baselines in the manifest. `lab lm eval`: held-out loss of any checkpoint folder on the same split.
 */
import { parseFlags, usage, type FlagSpecs } from './args.ts';
import { UsageError } from '../core/index.ts';
import type { LmRunOptions } from '../lm/index.ts';

const TRAIN_FLAGS: FlagSpecs = {
  corpus: { type: 'string', help: 'training corpus: the Brown corpus, the biographies of --kb, or both (held out on Brown)', choices: ['brown', 'facts', 'brown+facts'], default: 'brown' },
  kb: { type: 'string', help: '--corpus facts or brown+facts: a kb.jsonl from `lab facts make`' },
  copies: { type: 'int', help: '--corpus facts or brown+facts: biographies per subject', default: 40, min: 1 },
  out: { type: 'string', help: 'output folder: the checkpoint (config.json, model.safetensors, tokenizer.json), manifest.json, checkpoints/step-N' },
  layers: { type: 'int', help: 'transformer blocks', default: 2, min: 1, max: 48 },
  'd-model': { type: 'int', help: 'residual width', default: 128, min: 8 },
  heads: { type: 'int', help: 'attention heads (must divide --d-model)', default: 4, min: 1 },
  context: { type: 'int', help: 'context window in tokens', default: 128, min: 2, max: 4096 },
  steps: { type: 'int', help: 'optimizer steps (the cosine decay spans them)', default: 400, min: 1 },
  batch: { type: 'int', help: 'windows per step', default: 8, min: 1 },
  lr: { type: 'number', help: 'peak learning rate (AdamW)', default: 3e-3, min: 0 },
  'min-lr-ratio': { type: 'number', help: 'final learning rate as a fraction of --lr', default: 0.1, min: 0, max: 1 },
  warmup: { type: 'int', help: 'linear warmup steps', default: 30, min: 0 },
  'weight-decay': { type: 'number', help: 'AdamW decoupled weight decay on matrices', default: 0.1, min: 0 },
  clip: { type: 'number', help: 'global gradient-norm clip (0: none)', default: 1, min: 0 },
  seed: { type: 'int', help: 'seed of the split, initialisation and batches', default: 0 },
  minutes: { type: 'number', help: 'budget of the whole run in CPU minutes (= wall minutes on an idle machine); the decay ends within it', default: 20, min: 0.1 },
  'wall-minutes': { type: 'number', help: 'optional cap in wall-clock minutes (for a heavily shared machine)', min: 0.1 },
  'min-count': { type: 'int', help: 'keep GPT-2 tokens seen at least this often in training (1: GPT-2\'s exact segmentation)', default: 1, min: 1 },
  'eval-every': { type: 'int', help: 'held-out loss on an evaluation subset every N steps (0: never)', default: 50, min: 0 },
  'eval-windows': { type: 'int', help: 'windows in that evaluation subset', default: 16, min: 1 },
  checkpoints: { type: 'numbers', help: 'progress fractions in [0,1) at which to save checkpoints/step-N', default: [0, 0.125, 0.25, 0.5, 0.75], min: 0, max: 1 },
  dtype: { type: 'string', help: 'saved weight dtype', choices: ['f32', 'f16'], default: 'f32' },
  threads: { type: 'int', help: 'threads computing gradients (2: a worker thread takes half of each batch; --minutes is then per thread). Only --threads 1 is reproducible bit for bit: with 2 the weights differ run to run by float rounding (~1e-6)', default: 2, min: 1, max: 2 },
  overwrite: { type: 'boolean', help: 'replace a model or run of another kind or config in --out (the old one stays whole until the new one is complete)' },
  json: { type: 'boolean', help: 'print the manifest summary as JSON on stdout' },
  backend: { type: 'string', help: 'force a tfjs backend (node-gpu|node|wasm|cpu)' },
  help: { type: 'boolean', help: 'show this help' },
};

const EVAL_FLAGS: FlagSpecs = {
  model: { type: 'string', help: 'a checkpoint folder (config.json, model.safetensors, tokenizer.json)' },
  seed: { type: 'int', help: 'seed of the held-out split (default: the one in DIR/manifest.json, else 0)' },
  batch: { type: 'int', help: 'windows per forward pass', default: 8, min: 1 },
  json: { type: 'boolean', help: 'print the result as JSON on stdout' },
  backend: { type: 'string', help: 'force a tfjs backend (node-gpu|node|wasm|cpu)' },
  help: { type: 'boolean', help: 'show this help' },
};

const SUB = 'usage: lab lm train|eval [flags]   (lab lm train --help)';

export async function lmCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'train') return train(rest);
  if (sub === 'eval') return evaluate(rest);
  if (sub === undefined || sub === '--help' || sub === '-h') {
    process.stdout.write(`${SUB}\n\n  train  train a GPT-2 on the Brown corpus\n  eval   held-out loss of a checkpoint on the Brown split\n`);
    return sub === undefined ? 2 : 0;
  }
  throw new UsageError(`unknown subcommand 'lm ${sub}'; ${SUB}`);
}

async function train(argv: string[]): Promise<number> {
  const summary = 'Trains a GPT-2-architecture model on the Brown corpus (5% of documents held out) and saves it in the Hugging Face layout.';
  const { flags } = parseFlags(argv, TRAIN_FLAGS);
  if (flags.help) {
    process.stdout.write(usage('lm train', summary, TRAIN_FLAGS) + '\n');
    return 0;
  }
  if (flags.out === undefined) throw new UsageError('--out is required (the folder to write the model into)', 'out');
  const dModel = flags['d-model'] as number;
  const heads = flags.heads as number;
  if (dModel % heads !== 0) throw new UsageError(`--heads ${heads} must divide --d-model ${dModel}`, 'heads');
  const withFacts = flags.corpus === 'facts' || flags.corpus === 'brown+facts';
  if (withFacts && flags.kb === undefined) throw new UsageError(`--corpus ${flags.corpus} needs --kb FILE.jsonl (write one with \`lab facts make\`)`, 'kb');
  if (!withFacts && flags.kb !== undefined) throw new UsageError('--kb goes with --corpus facts or brown+facts', 'kb');
  const started = performance.now();
  const { initBackend } = await import('../core/backend.ts');
  const { runLmTraining } = await import('../lm/index.ts');
  const backend = await initBackend(flags.backend as string | undefined);
  const opts: LmRunOptions = {
    out: flags.out as string,
    minCount: flags['min-count'] as number,
    corpus: flags.corpus as 'brown' | 'facts' | 'brown+facts',
    kb: flags.kb as string | undefined,
    copies: flags.copies as number,
    overwrite: Boolean(flags.overwrite),
    command: ['lab', 'lm', 'train', ...argv].join(' '),
    backend: backend.active,
    startedAt: started,
    startedCpu: 0,
    train: {
      layers: flags.layers as number,
      dModel,
      heads,
      context: flags.context as number,
      steps: flags.steps as number,
      batch: flags.batch as number,
      lr: flags.lr as number,
      minLrRatio: flags['min-lr-ratio'] as number,
      warmup: flags.warmup as number,
      weightDecay: flags['weight-decay'] as number,
      clip: flags.clip as number,
      seed: flags.seed as number,
      minutes: flags.minutes as number,
      wallMinutes: flags['wall-minutes'] as number | undefined,
      evalEvery: flags['eval-every'] as number,
      evalWindows: flags['eval-windows'] as number,
      checkpointAt: flags.checkpoints as number[],
      dtype: flags.dtype as 'f32' | 'f16',
      threads: flags.threads as number,
    },
  };
  const result = await runLmTraining(opts);
  const h = result.held_out;
  if (flags.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  else {
    process.stdout.write(
      [
        `model saved to ${opts.out} (${result.steps_done} steps, ${result.params} parameters)`,
        `held-out loss   nats/token  bits/byte`,
        `  model         ${h.model.nats_per_token.toFixed(4)}      ${h.model.bits_per_byte.toFixed(4)}`,
        `  bigram (KN)   ${h.bigram.nats_per_token.toFixed(4)}      ${h.bigram.bits_per_byte.toFixed(4)}`,
        `  unigram       ${h.unigram.nats_per_token.toFixed(4)}      ${h.unigram.bits_per_byte.toFixed(4)}`,
        ...(result.facts_recall ? [`held-out query templates: top-1 ${(100 * result.facts_recall.accuracy).toFixed(1)}% (${result.facts_recall.correct}/${result.facts_recall.queries})`] : []),
      ].join('\n') + '\n',
    );
  }
  return 0;
}

async function evaluate(argv: string[]): Promise<number> {
  const summary = 'Held-out loss of a checkpoint on the Brown held-out documents, encoded with its own tokenizer.';
  const { flags } = parseFlags(argv, EVAL_FLAGS);
  if (flags.help) {
    process.stdout.write(usage('lm eval', summary, EVAL_FLAGS) + '\n');
    return 0;
  }
  if (flags.model === undefined) throw new UsageError('--model is required', 'model');
  const { initBackend } = await import('../core/backend.ts');
  const { evaluateCheckpoint } = await import('../lm/index.ts');
  await initBackend(flags.backend as string | undefined);
  const r = await evaluateCheckpoint(flags.model as string, { seed: flags.seed as number | undefined, batch: flags.batch as number });
  if (flags.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
  else process.stdout.write(`${flags.model}: ${r.nats_per_token.toFixed(4)} nats/token, ${r.bits_per_byte.toFixed(4)} bits/byte over ${r.targets} held-out tokens (${r.bytes} bytes)\n`);
  return 0;
}

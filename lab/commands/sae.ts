/**
 * `lab sae train|eval|load`: sparse autoencoders over a store's hook, saved in SAELens's layout.
 */
import { parseFlags, usage, type FlagSpecs } from './args.ts';
import { UsageError } from '../core/index.ts';

const ARCHS = ['topk', 'relu-l1', 'jumprelu'] as const;

const TRAIN: FlagSpecs = {
  activations: { type: 'string', help: 'activation store (a lab harvest run directory) (required)' },
  hook: { type: 'string', help: 'the store hook to train on (required)' },
  latents: { type: 'int', min: 1, help: 'd_sae, the number of latents (required)' },
  arch: { type: 'string', choices: ARCHS, default: 'topk', help: 'topk (AuxK loss for dead latents), relu-l1 or jumprelu (resampling)' },
  k: { type: 'int', min: 1, default: 4, help: 'topk: active latents per row' },
  l1: { type: 'number', min: 0, default: 1e-3, help: 'relu-l1: L1 coefficient' },
  l0: { type: 'number', min: 0, default: 1e-3, help: 'jumprelu: L0 coefficient' },
  bandwidth: { type: 'number', min: 0, default: 1e-3, help: 'jumprelu: straight-through bandwidth' },
  'aux-coef': { type: 'number', min: 0, default: 1 / 32, help: 'topk: AuxK loss weight (Gao et al.: 1/32)' },
  steps: { type: 'int', min: 1, default: 2000, help: 'training steps' },
  batch: { type: 'int', min: 1, default: 1024, help: 'rows per step' },
  lr: { type: 'number', default: 1e-3, help: 'Adam learning rate' },
  'dead-window': { type: 'int', min: 1, default: 200, help: 'steps without firing after which a latent is dead' },
  seed: { type: 'int', min: 0, default: 0, help: 'fixes the initialisation and the row order' },
  out: { type: 'string', help: 'run directory: manifest.json, cfg.json, sae_weights.safetensors, history.csv (required)' },
  json: { type: 'boolean', help: 'print one JSON object on stdout' },
  quiet: { type: 'boolean', help: 'no progress on stderr' },
  help: { type: 'boolean', help: 'show this help' },
};

const EVAL: FlagSpecs = {
  sae: { type: 'string', help: 'SAE folder (cfg.json + sae_weights.safetensors) (required)' },
  activations: { type: 'string', help: 'activation store holding the SAE\'s hook (required)' },
  hook: { type: 'string', help: 'the store hook (default: the SAE cfg\'s hook_name; must equal it)' },
  truth: { type: 'string', help: 'toy:RUN_DIR, the toy run whose feature directions are the truth (default: a toy store\'s own run)' },
  'max-rows': { type: 'int', min: 1, help: 'evaluate on the first N rows only' },
  model: { type: 'string', help: 'model folder: also the next-token loss with the SAE spliced in at its hook (needs --text-file)' },
  'text-file': { type: 'string', help: 'UTF-8 text for the spliced loss' },
  'max-tokens': { type: 'int', min: 2, default: 20000, help: 'spliced loss: tokens of the text to score' },
  features: { type: 'boolean', help: 'with a truth: print the per-feature table' },
  json: { type: 'boolean', help: 'print one JSON object on stdout' },
  help: { type: 'boolean', help: 'show this help' },
};

const ENCODE: FlagSpecs = {
  sae: { type: 'string', help: 'SAE folder (required)' },
  activations: { type: 'string', help: 'activation store holding the SAE\'s hook (required)' },
  out: { type: 'string', help: 'the latent store to write (a harvest run directory) (required)' },
  overwrite: { type: 'boolean', help: 'replace a store with other settings in --out' },
  help: { type: 'boolean', help: 'show this help' },
};

const LOAD: FlagSpecs = {
  json: { type: 'boolean', help: 'print one JSON object on stdout' },
  help: { type: 'boolean', help: 'show this help' },
};

const SUMMARY = 'usage: lab sae train|eval|encode|load [flags]   (lab sae train --help, ...)\n';

export async function saeCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'train') return train(rest);
  if (sub === 'eval') return evaluate(rest);
  if (sub === 'load') return load(rest);
  if (sub === 'encode') return encode(rest);
  if (sub === undefined || sub === '--help' || sub === 'help' || sub === '-h') {
    process.stdout.write(SUMMARY);
    return sub === undefined ? 2 : 0;
  }
  throw new UsageError(`unknown sae subcommand '${sub}' (train, eval, encode, load)`);
}

const need = (v: unknown, flag: string): void => {
  if (v === undefined) throw new UsageError(`--${flag} is required`, flag);
};

async function train(argv: string[]): Promise<number> {
  const { flags: f } = parseFlags(argv, TRAIN);
  if (f.help) {
    process.stdout.write(usage('sae train', 'Trains a sparse autoencoder on one hook of an activation store (resumable: rerun the same command).', TRAIN) + '\n');
    return 0;
  }
  for (const k of ['activations', 'hook', 'latents', 'out']) need(f[k], k);
  const { openActivationStore, trainSae, defaultSaeConfig, useTfMatMul } = await import('../../activations/index.ts');
  await useTfMatMul();
  const store = openActivationStore(f.activations as string);
  const config = defaultSaeConfig({
    hook: f.hook as string, arch: f.arch as (typeof ARCHS)[number], latents: f.latents as number, k: f.k as number,
    steps: f.steps as number, batch: f.batch as number, lr: f.lr as number, seed: f.seed as number, deadWindow: f['dead-window'] as number,
    coefficients: { l1: f.l1 as number, l0: f.l0 as number, bandwidth: f.bandwidth as number, aux: f['aux-coef'] as number },
  });
  const r = await trainSae(store, config, { out: f.out as string, silent: Boolean(f.quiet), command: `lab sae train ${argv.join(' ')}` });
  const summary = { dir: r.dir, already_complete: r.alreadyComplete, resumed_from_step: r.resumedFromStep, steps: r.steps, steps_per_second: r.stepsPerSecond, ...r.final };
  if (f.json) process.stdout.write(JSON.stringify(summary) + '\n');
  else {
    process.stdout.write(r.alreadyComplete
      ? `${r.dir}: already complete\n`
      : `${r.dir}: ${config.arch} SAE, ${config.latents} latents on ${config.hook}; ${r.steps} steps (${r.stepsPerSecond.toFixed(0)}/s)` +
        `${r.resumedFromStep ? `, resumed at step ${r.resumedFromStep}` : ''}; last batch: L0 ${r.final.l0.toFixed(2)}, mse ${r.final.mse.toPrecision(4)}, dead ${(100 * r.final.dead_fraction).toFixed(1)}%\n`);
  }
  return 0;
}

async function evaluate(argv: string[]): Promise<number> {
  const { flags: f } = parseFlags(argv, EVAL);
  if (f.help) {
    process.stdout.write(usage('sae eval', 'Scores an SAE on a store\'s rows: L0, explained variance, MSE, dead/dense latents, shrinkage; on a toy, MMCS and matching against the true features.', EVAL) + '\n');
    return 0;
  }
  need(f.sae, 'sae');
  need(f.activations, 'activations');
  let truth: string | undefined;
  if (f.truth !== undefined) {
    if (!(f.truth as string).startsWith('toy:')) throw new UsageError(`--truth takes toy:RUN_DIR, got '${f.truth as string}'`, 'truth');
    truth = (f.truth as string).slice(4);
  }
  if ((f.model === undefined) !== (f['text-file'] === undefined)) throw new UsageError('--model and --text-file go together', f.model === undefined ? 'model' : 'text-file');
  const { openActivationStore, readSae, evaluateSae, loadModel, splicedLoss, useTfMatMul } = await import('../../activations/index.ts');
  await useTfMatMul();
  const loaded = readSae(f.sae as string);
  const store = openActivationStore(f.activations as string);
  const { inputMean, ...r } = evaluateSae(loaded, store, { hook: f.hook as string | undefined, truth, maxRows: f['max-rows'] as number | undefined });
  let spliced: import('../../activations/index.ts').SplicedLoss | undefined;
  if (f.model !== undefined) {
    const { readFileSync } = await import('node:fs');
    const { InputError } = await import('../core/index.ts');
    let text: string;
    try {
      text = readFileSync(f['text-file'] as string, 'utf8');
    } catch (err) {
      throw new InputError(`cannot read --text-file ${f['text-file'] as string}: ${(err as Error).message}`, f['text-file'] as string);
    }
    const model = await loadModel(f.model as string);
    spliced = splicedLoss(model, loaded.sae, r.hook, text, inputMean, { maxTokens: f['max-tokens'] as number });
  }
  if (f.json) {
    process.stdout.write(JSON.stringify({ ...r, ...(spliced ? { spliced } : {}) }) + '\n');
    return 0;
  }
  const m = r.recon;
  const lines = [
    `${r.sae_dir}: ${r.arch} SAE ${r.d_in} -> ${r.d_sae} on ${r.hook}, ${m.rows} rows`,
    `l0 ${m.l0.toFixed(3)}  explained_variance ${m.explained_variance.toFixed(4)}  mse ${m.mse.toPrecision(4)}  cossim ${m.cossim.toFixed(4)}`,
    `l2_ratio ${m.l2_ratio.toFixed(4)}  relative_reconstruction_bias ${m.relative_reconstruction_bias.toFixed(4)}  dead ${m.dead_latents}  dense ${m.dense_latents}`,
  ];
  if (r.truth) {
    const t = r.truth;
    lines.push(`truth ${t.toy_run} instance ${t.instance}: mmcs ${t.mmcs.toFixed(4)}  hungarian ${t.hungarian.toFixed(4)}  above_0.9 ${t.above_0_9}/${t.features}` +
      `  above-median-importance min cos ${t.above_median_min_cos.toFixed(4)} (${t.above_median_features} features)  represented ${t.represented}`);
    if (f.features) {
      lines.push('feature,importance,norm,max_cos,best_latent,matched_latent,matched_cos');
      for (const p of t.per_feature) lines.push([p.feature, p.importance, p.norm, p.max_cos, p.best_latent, p.matched_latent, p.matched_cos].map((v) => +Number(v).toPrecision(5)).join(','));
    }
  }
  if (spliced) {
    const p = spliced, b = p.bits_per_byte;
    lines.push(`next-token loss over ${p.targets} tokens (nats/token; bits/byte): clean ${p.clean.toFixed(4)} (${b.clean.toFixed(4)})  sae ${p.sae.toFixed(4)} (${b.sae.toFixed(4)})` +
      `  zero-ablated ${p.zero_ablation.toFixed(4)} (${b.zero_ablation.toFixed(4)})  mean-ablated ${p.mean_ablation.toFixed(4)} (${b.mean_ablation.toFixed(4)})`);
    lines.push(`loss recovered: ${(100 * p.loss_recovered_zero).toFixed(2)}% vs zero ablation, ${(100 * p.loss_recovered_mean).toFixed(2)}% vs mean ablation`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

async function encode(argv: string[]): Promise<number> {
  const { flags: f } = parseFlags(argv, ENCODE);
  if (f.help) {
    process.stdout.write(usage('sae encode', 'Writes an SAE\'s latent activations over a store as a new store (hook <hook>.hook_sae_acts_post, same rows and labels), for lab probe / classify.', ENCODE) + '\n');
    return 0;
  }
  for (const k of ['sae', 'activations', 'out']) need(f[k], k);
  const { openActivationStore, readSae, encodeStore, useTfMatMul } = await import('../../activations/index.ts');
  await useTfMatMul();
  const r = encodeStore(readSae(f.sae as string), openActivationStore(f.activations as string), f.out as string, { command: `lab sae encode ${argv.join(' ')}`, overwrite: Boolean(f.overwrite) });
  process.stdout.write(`${r.dir}: ${r.alreadyComplete ? 'already complete' : 'wrote'} ${r.rows} rows of ${r.hook}\n`);
  return 0;
}

async function load(argv: string[]): Promise<number> {
  const { flags: f, positionals } = parseFlags(argv, LOAD);
  if (f.help) {
    process.stdout.write(usage('sae load DIR', 'Reads an SAE folder in SAELens\'s layout (trained here or by SAELens), checks every tensor\'s shape against cfg.json and prints the config.', LOAD) + '\n');
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('lab sae load takes one folder: lab sae load DIR');
  const { readSae } = await import('../../activations/index.ts');
  const l = readSae(positionals[0]!);
  const s = l.sae;
  const shapes = { W_enc: [s.dIn, s.dSae], b_enc: [s.dSae], W_dec: [s.dSae, s.dIn], b_dec: [s.dIn], ...(s.threshold ? { threshold: [s.dSae] } : {}) };
  let maxDevNorm = 0;
  for (let j = 0; j < s.dSae; j++) {
    let q = 0;
    for (let i = 0; i < s.dIn; i++) q += s.W_dec[j * s.dIn + i]! ** 2;
    maxDevNorm = Math.max(maxDevNorm, Math.abs(Math.sqrt(q) - 1));
  }
  const info = { dir: l.dir, arch: s.arch, d_in: s.dIn, d_sae: s.dSae, ...(s.arch === 'topk' ? { k: s.k } : {}), hook_name: l.meta.hookName, model_name: l.meta.modelName ?? null, shapes, decoder_row_norm_max_deviation: maxDevNorm, cfg: l.cfg };
  if (f.json) process.stdout.write(JSON.stringify(info) + '\n');
  else {
    process.stdout.write([
      `${l.dir}: ${s.arch} SAE, d_in ${s.dIn}, d_sae ${s.dSae}${s.arch === 'topk' ? `, k ${s.k}` : ''}, hook ${l.meta.hookName}${l.meta.modelName ? `, model ${l.meta.modelName}` : ''}`,
      `tensors: ${Object.entries(shapes).map(([n, sh]) => `${n} [${sh.join(', ')}]`).join(', ')} (shapes match cfg.json)`,
      `decoder rows: max | ||W_dec[j]|| - 1 | = ${maxDevNorm.toExponential(2)}`,
      JSON.stringify(l.cfg, null, 2),
    ].join('\n') + '\n');
  }
  return 0;
}

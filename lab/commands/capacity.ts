/**
 * `lab capacity --model DIR --probes P --classify C --out D [--toy T] [--hooks H,..] [--eval-bytes N]`:
 * per feature and hook, importance (loss increase when the feature's probe direction is mean-ablated,
 * bits per byte of held-out text) beside capacity, dedicated, k* and mono share; Spearman correlations
 * with bootstrap intervals, the toy model beside it (lab/capacity/ says exactly what each column is).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseFlags, required, usage, type FlagSpecs } from './args.ts';
import { InputError, UsageError } from '../core/index.ts';

const SUMMARY =
  'Does the model give its important features monosemantic neurons? Per feature and hook: frequency, importance\n' +
  '(loss increase in bits/byte of held-out text when the best probe\'s direction is mean-ablated), importance_k1 and\n' +
  'importance_kstar (the 1-sparse and k*-sparse probes\' neurons mean-ablated), capacity, dedicated, k_star, mono_share;\n' +
  'Spearman rho of importance with capacity and mono_share per hook and pooled, 95% bootstrap intervals; --toy beside it.';

const FLAGS: FlagSpecs = {
  model: { type: 'string', help: 'the model the probe run\'s store was harvested from (Hugging Face folder) (required)' },
  probes: { type: 'string', help: 'a probe run directory (lab probe) (required)' },
  classify: { type: 'string', help: 'the classify run of that probe run (lab classify --out) (required)' },
  out: { type: 'string', help: 'run directory to write (required)' },
  toy: { type: 'string', help: 'a toy run (lab toy train --out): C_i against its known importance, beside the model' },
  hooks: { type: 'list', help: 'exact hook names to measure (default: every probed hook)' },
  'eval-bytes': { type: 'int', min: 1, default: 4000, help: 'bytes of held-out text per ablation (plus one sequence per feature lacking a positive)' },
  'eval-strict': { type: 'boolean', help: 'no extra sequences: a feature without a positive in --eval-bytes is an error' },
  window: { type: 'int', min: 2, help: 'tokens per forward window (default: the model\'s context length)' },
  reps: { type: 'int', min: 10, default: 1000, help: 'bootstrap resamples' },
  seed: { type: 'int', min: 0, default: 0, help: 'seeds the bootstrap' },
  overwrite: { type: 'boolean', help: 'replace a run of another kind or config in --out' },
  backend: { type: 'string', help: 'force a tfjs backend (node-gpu, node, wasm, cpu)' },
  quiet: { type: 'boolean', help: 'no progress on stderr' },
  json: { type: 'boolean', help: 'print the summary rows as JSON on stdout' },
  help: { type: 'boolean', help: 'show this help' },
};

export async function capacityCommand(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, FLAGS);
  const f = parsed.flags;
  if (f.help) {
    process.stdout.write(usage('capacity', SUMMARY, FLAGS) + '\n');
    return 0;
  }
  if (parsed.positionals.length) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
  const modelDir = required<string>(parsed, 'model');
  const probes = required<string>(parsed, 'probes');
  const classify = required<string>(parsed, 'classify');
  const out = required<string>(parsed, 'out');
  if (!existsSync(join(modelDir, 'config.json'))) throw new InputError(`--model ${modelDir}: no config.json there (a Hugging Face model folder is expected)`, modelDir);
  for (const [flag, dir] of [['probes', probes], ['classify', classify], ['toy', f.toy as string | undefined]] as const) {
    if (dir !== undefined && !existsSync(join(dir, 'manifest.json'))) throw new InputError(`--${flag} ${dir}: not a run directory (no manifest.json)`, dir);
  }
  const { initBackend } = await import('../core/backend.ts');
  const { loadModel } = await import('../../activations/index.ts');
  const { runCapacity, formatCorrelations } = await import('../capacity/index.ts');
  await initBackend(f.backend as string | undefined);
  const model = await loadModel(modelDir);
  try {
    const log = f.quiet ? undefined : (l: string) => process.stderr.write(l + '\n');
    const r = runCapacity(model, {
      probeDir: probes, classifyDir: classify, out, toyDir: f.toy as string | undefined, hooks: f.hooks as string[] | undefined,
      evalBytes: f['eval-bytes'] as number, evalStrict: Boolean(f['eval-strict']), window: f.window as number | undefined,
      reps: f.reps as number, seed: f.seed as number, overwrite: Boolean(f.overwrite), command: ['lab', 'capacity', ...argv].join(' '), log,
    });
    if (f.json) {
      process.stdout.write(JSON.stringify({ out: r.out, eval: { bytes: r.eval.bytes, sequences: r.eval.sequences }, summary: r.summary }) + '\n');
      return 0;
    }
    const lines = [`capacity of ${r.rows.length} (feature, hook) pairs over ${r.eval.bytes} bytes of held-out text (${r.eval.sequences} sequences) -> ${r.out}`];
    const top = [...r.rows].sort((a, b) => b.importance - a.importance).slice(0, 8);
    lines.push('most important (bits/byte):');
    for (const x of top) {
      lines.push(`  ${x.feature.padEnd(20)} ${x.hook.padEnd(26)} importance ${x.importance.toFixed(5)}  k1 ${x.importance_k1.toFixed(5)}  k* ${x.importance_kstar.toFixed(5)}  capacity ${x.capacity.toFixed(2)}  mono_share ${x.mono_share.toFixed(2)}${x.dedicated ? '  dedicated' : ''}`);
    }
    lines.push('Spearman rho [95% bootstrap]:', ...formatCorrelations(r.summary, '  '));
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  } finally {
    model.dispose();
  }
}

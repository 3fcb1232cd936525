import { parseFlags, usage, type FlagSpecs } from './args.ts';
import { UsageError } from '../core/index.ts';
import { checkRankMethods, rankMethodNames, type RankMethod } from '../../probes/kinds.ts';

const SPECS: FlagSpecs = {
  model: { type: 'string', help: 'Hugging Face GPT-2 or GPT-NeoX folder (default: the embedded lab-trained model)' },
  out: { type: 'string', default: 'runs/demo', help: 'directory for the runs and report.html' },
  'max-tokens': { type: 'int', min: 100, default: 20_000, help: 'tokens harvested per token-level dataset' },
  methods: { type: 'list', default: ['mean_dif'], help: `ranking methods: ${rankMethodNames().join(',')}` },
  'toy-steps': { type: 'int', min: 0, default: 3000, help: 'training steps of the toy models' },
  seed: { type: 'int', min: 0, default: 0, help: 'seeds data order, splits and toy models' },
  json: { type: 'boolean', help: 'print the summary as JSON' },
  quiet: { type: 'boolean', help: 'no progress bars' },
  backend: { type: 'string', help: 'force a tfjs backend: node-gpu, node, wasm or cpu' },
  help: { type: 'boolean', help: 'show this help' },
};

export async function demoCommand(argv: string[]): Promise<number> {
  const { flags: f, positionals } = parseFlags(argv, SPECS);
  if (f.help) {
    process.stdout.write(usage('demo', 'The main job end to end: harvest, probe, classify, toy models, dashboard.', SPECS) + '\n');
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  checkRankMethods(f.methods as string[], 'methods');
  const { formatSummary, runDemo } = await import('../demo/index.ts');
  const { DEFAULT_MODEL_DIR } = await import('../lm/index.ts');
  const summary = await runDemo({
    model: (f.model as string | undefined) ?? DEFAULT_MODEL_DIR,
    out: f.out as string,
    seed: f.seed as number,
    maxTokens: f['max-tokens'] as number,
    methods: f.methods as RankMethod[],
    toySteps: f['toy-steps'] as number,
    backend: f.backend as string | undefined,
    quiet: Boolean(f.quiet),
  });
  process.stdout.write(f.json ? JSON.stringify(summary, null, 2) + '\n' : formatSummary(summary));
  return 0;
}

/**
 * `lab ablate --model DIR --hook H --neurons N,M --text-file F [--mode zero|mean] [--json]`: the mean
 * next-token loss over F with and without the neurons (activations/ablate.ts defines the windows, the
 * mean and the units).
 */
import { readFileSync } from 'node:fs';
import { indices, parseFlags, required, usage, type FlagSpecs } from './args.ts';
import { InputError } from '../core/index.ts';

const SUMMARY =
  'Mean next-token loss over a text with and without some neurons (zero- or mean-ablated at one hook).\n' +
  'JSON: {hook, neurons, mode, bytes, tokens, predicted, windows, base_loss, ablated_loss, delta_loss (nats per\n' +
  'predicted token), delta_bits_per_byte (the summed difference in bits per byte of the text), means? (mean mode)}.';

const FLAGS: FlagSpecs = {
  model: { type: 'string', help: 'model folder in the Hugging Face layout (required)' },
  hook: { type: 'string', help: 'hook to ablate at, e.g. blocks.0.mlp.hook_post (required)' },
  neurons: { type: 'list', help: 'neuron indices in the hook, comma-separated (required)' },
  'text-file': { type: 'string', help: 'UTF-8 text to measure the loss on (required)' },
  mode: { type: 'string', choices: ['zero', 'mean'], default: 'zero', help: 'zero: set to 0; mean: set to the mean over the text' },
  window: { type: 'int', min: 2, help: 'tokens per forward window (default: the context length)' },
  backend: { type: 'string', help: 'force a tfjs backend (node-gpu, node, wasm, cpu)' },
  json: { type: 'boolean', help: 'print JSON on stdout' },
  help: { type: 'boolean', help: 'show this help' },
};

export async function ablateCommand(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, FLAGS);
  const f = parsed.flags;
  if (f.help) {
    process.stdout.write(usage('ablate', SUMMARY, FLAGS) + '\n');
    return 0;
  }
  const modelDir = required<string>(parsed, 'model');
  const hook = required<string>(parsed, 'hook');
  const neurons = indices(required<string[]>(parsed, 'neurons'), 'neurons');
  const file = required<string>(parsed, 'text-file');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(`--text-file ${file}: ${(err as Error).message}`, file);
  }
  const { initBackend } = await import('../core/backend.ts');
  const { loadModel, ablateNeurons } = await import('../../activations/index.ts');
  await initBackend(f.backend as string | undefined);
  const model = await loadModel(modelDir);
  try {
    const r = ablateNeurons(model, text, { hook, neurons, mode: f.mode as 'zero' | 'mean', window: f.window as number | undefined });
    if (f.json) process.stdout.write(JSON.stringify(r) + '\n');
    else {
      process.stdout.write(
        `${r.mode}-ablating ${r.hook} neurons ${r.neurons.join(',')} over ${file} (${r.bytes} bytes, ${r.predicted} predicted tokens, ${r.windows} windows)\n` +
          `  base loss    ${r.base_loss.toFixed(5)} nats/token\n  ablated loss ${r.ablated_loss.toFixed(5)} nats/token\n` +
          `  delta        ${r.delta_loss >= 0 ? '+' : ''}${r.delta_loss.toFixed(5)} nats/token, ${r.delta_bits_per_byte >= 0 ? '+' : ''}${r.delta_bits_per_byte.toFixed(5)} bits/byte\n`,
      );
    }
    return 0;
  } finally {
    model.dispose();
  }
}

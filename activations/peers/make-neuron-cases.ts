/**
 * Writes the neuron-effect and ablation cases for the PyTorch peer:
 *   npx tsx activations/peers/make-neuron-cases.ts OUT_DIR
 * OUT_DIR/<case>/ is a Hugging Face folder; OUT_DIR/cases.json lists per case the hook, the neurons and
 * the forward windows of ABLATION_TEXT exactly as `lab ablate` forms them (ablationWindows).
 */
import { join } from 'node:path';
import { writeJsonAtomic } from '../../lab/core/index.ts';
import { ablationWindows } from '../ablate.ts';
import { loadTokenizer } from '../models/tokenizer.ts';
import { writeRandomCheckpoint } from '../models/random-checkpoint.ts';
import { ABLATION_TEXT, NEURON_CASES } from './neuron-specs.ts';

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: npx tsx activations/peers/make-neuron-cases.ts OUT_DIR\n');
  process.exit(2);
}
const cases = NEURON_CASES.map((c) => {
  const dir = join(out, c.name);
  writeRandomCheckpoint(dir, c.spec);
  const tok = loadTokenizer(dir);
  const windows = ablationWindows(tok.encode(ABLATION_TEXT), c.spec.contextLength, tok.bosId);
  return { name: c.name, hook: c.hook, neurons: c.neurons, windows, has_bos: tok.bosId !== undefined };
});
writeJsonAtomic(join(out, 'cases.json'), cases);

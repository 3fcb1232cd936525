/**
 * Writes the directional ablation cases for the PyTorch peer:
 *   npx tsx activations/peers/make-direction-cases.ts OUT_DIR
 * OUT_DIR/<checkpoint>/ is a Hugging Face folder; OUT_DIR/cases.json lists per case the hook, the
 * direction and the forward windows of ABLATION_TEXT exactly as the lab forms them (ablationWindows).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../../lab/core/index.ts';
import { ablationWindows } from '../ablate.ts';
import { loadTokenizer } from '../models/tokenizer.ts';
import { writeRandomCheckpoint } from '../models/random-checkpoint.ts';
import { DIRECTION_CASES } from './direction-specs.ts';
import { ABLATION_TEXT } from './neuron-specs.ts';

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: npx tsx activations/peers/make-direction-cases.ts OUT_DIR\n');
  process.exit(2);
}
const cases = DIRECTION_CASES.map((c) => {
  const dir = join(out, c.checkpoint.name);
  if (!existsSync(join(dir, 'config.json'))) writeRandomCheckpoint(dir, c.checkpoint.spec);
  const tok = loadTokenizer(dir);
  const windows = ablationWindows(tok.encode(ABLATION_TEXT), c.checkpoint.spec.contextLength, tok.bosId);
  return { name: c.name, checkpoint: c.checkpoint.name, hook: c.checkpoint.hook, direction: c.direction, windows, has_bos: tok.bosId !== undefined };
});
writeJsonAtomic(join(out, 'cases.json'), cases);

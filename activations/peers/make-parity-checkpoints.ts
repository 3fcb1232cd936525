/**
 * Writes the parity checkpoints and their inputs into OUT_DIR for the PyTorch peer:
 *   npx tsx activations/peers/make-parity-checkpoints.ts OUT_DIR
 * OUT_DIR/<case>/ is a Hugging Face folder; OUT_DIR/cases.json lists ids and hooks per case.
 */
import { join } from 'node:path';
import { writeJsonAtomic } from '../../lab/core/index.ts';
import { writeRandomCheckpoint } from '../models/random-checkpoint.ts';
import { PARITY_CASES } from './parity-specs.ts';

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: npx tsx activations/peers/make-parity-checkpoints.ts OUT_DIR\n');
  process.exit(2);
}
for (const c of PARITY_CASES) writeRandomCheckpoint(join(out, c.name), c.spec);
writeJsonAtomic(join(out, 'cases.json'), PARITY_CASES.map((c) => ({ name: c.name, ids: c.ids, hooks: c.hooks })));

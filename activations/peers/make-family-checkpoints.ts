/**
 * Writes the model-family parity checkpoints (family-specs.ts) and their inputs into OUT_DIR for
 * the PyTorch peer activations/peers/families_torch.py:
 *   npx tsx activations/peers/make-family-checkpoints.ts OUT_DIR
 */
import { join } from 'node:path';
import { writeJsonAtomic } from '../../lab/core/index.ts';
import { writeRandomCheckpoint } from '../models/random-checkpoint.ts';
import { FAMILY_CASES } from './family-specs.ts';

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: npx tsx activations/peers/make-family-checkpoints.ts OUT_DIR\n');
  process.exit(2);
}
for (const c of FAMILY_CASES) writeRandomCheckpoint(join(out, c.name), c.spec);
writeJsonAtomic(join(out, 'cases.json'), FAMILY_CASES.map((c) => ({ name: c.name, ids: c.ids, hooks: c.hooks })));

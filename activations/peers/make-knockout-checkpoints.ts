/**
 * Writes the knockout checkpoints and their cases into OUT_DIR for the PyTorch peer:
 *   npx tsx activations/peers/make-knockout-checkpoints.ts OUT_DIR
 * OUT_DIR/<case>/ is a Hugging Face folder; OUT_DIR/cases.json lists ids, edge blocks and the query.
 */
import { join } from 'node:path';
import { writeJsonAtomic } from '../../lab/core/index.ts';
import { writeRandomCheckpoint } from '../models/random-checkpoint.ts';
import { KNOCKOUT_CASES } from './knockout-specs.ts';

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: npx tsx activations/peers/make-knockout-checkpoints.ts OUT_DIR\n');
  process.exit(2);
}
for (const c of KNOCKOUT_CASES) writeRandomCheckpoint(join(out, c.name), c.spec);
writeJsonAtomic(
  join(out, 'cases.json'),
  KNOCKOUT_CASES.map((c) => ({ name: c.name, spec: c.spec, ids: c.ids, edge_configs: c.edgeConfigs, query: c.query })),
);

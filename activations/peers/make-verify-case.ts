/**
 * Writes the checkpoint `lab verify` is tested on and the fixed prompt's token ids for the PyTorch peer:
 *   npx tsx activations/peers/make-verify-case.ts OUT_DIR
 * OUT_DIR/model/ is a Hugging Face folder; OUT_DIR/case.json holds {prompt, ids}.
 */
import { join } from 'node:path';
import { writeJsonAtomic } from '../../lab/core/index.ts';
import { writeRandomCheckpoint } from '../models/random-checkpoint.ts';
import { loadTokenizer } from '../models/tokenizer.ts';
import { VERIFY_PROMPT } from '../models/verify.ts';
import { VERIFY_SPEC } from './parity-specs.ts';

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: npx tsx activations/peers/make-verify-case.ts OUT_DIR\n');
  process.exit(2);
}
writeRandomCheckpoint(join(out, 'model'), VERIFY_SPEC);
writeJsonAtomic(join(out, 'case.json'), { prompt: VERIFY_PROMPT, ids: loadTokenizer(join(out, 'model')).encode(VERIFY_PROMPT) });

/** Where `--model` points: a Hugging Face folder, or `default` for the lab-trained model. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_MODEL_DIR } from '../lm/index.ts';
import { UsageError } from '../core/index.ts';


export function resolveModelDir(arg: string | undefined): string {
  if (arg === undefined) throw new UsageError('--model DIR|default is required', 'model');
  const dir = arg === 'default' ? DEFAULT_MODEL_DIR : resolve(arg);
  if (!existsSync(join(dir, 'config.json'))) {
    throw new UsageError(
      arg === 'default'
        ? `the default model (${dir}) is not there: train it with 'lab lm train' or pass --model DIR`
        : `--model ${arg}: ${join(dir, 'config.json')} is missing (expected a Hugging Face model folder)`,
      'model',
    );
  }
  return dir;
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError, InputError } from '../core/index.ts';
import { lmCommand } from './lm.ts';

const tmp = mkdtempSync(join(tmpdir(), 'lm-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('lab lm', () => {
  it('names the flag at fault', async () => {
    await expect(lmCommand(['train'])).rejects.toThrow(UsageError);
    await expect(lmCommand(['train'])).rejects.toThrow(/--out is required/);
    await expect(lmCommand(['train', '--out', tmp, '--d-model', '30', '--heads', '4'])).rejects.toThrow(/--heads 4 must divide --d-model 30/);
    await expect(lmCommand(['train', '--out', tmp, '--corpus', 'wiki'])).rejects.toThrow(/--corpus must be one of brown/);
    await expect(lmCommand(['train', '--out', tmp, '--steps', '0'])).rejects.toThrow(/--steps must be >= 1/);
    await expect(lmCommand(['fit'])).rejects.toThrow(/unknown subcommand 'lm fit'/);
    await expect(lmCommand(['eval'])).rejects.toThrow(/--model is required/);
  });

  it('fails clearly on a model folder that is not there', async () => {
    await expect(lmCommand(['eval', '--model', join(tmp, 'nope')])).rejects.toThrow(InputError);
  });
});

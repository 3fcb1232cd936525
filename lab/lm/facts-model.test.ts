/**
 * The committed facts model recalls the facts of its knowledge base through the held-out query
 * templates (the figure its MODEL.md reports), loaded the way users load it.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../activations/index.ts';
import { initBackend } from '../core/backend.ts';
import { FACTS_MODEL_DIR } from './default-model.ts';
import { factsAccuracy } from './facts-eval.ts';
import { kbQueries, readKb } from './facts.ts';

beforeAll(async () => {
  await initBackend();
});

describe('facts model', () => {
  it('answers at least 90% of the held-out query templates (measured: 252 of 256)', async () => {
    const model = await loadModel(FACTS_MODEL_DIR);
    const kb = readKb(join(FACTS_MODEL_DIR, 'kb.jsonl'));
    const r = factsAccuracy(model, model.tokenizer, kbQueries(kb));
    expect(r.queries).toBe(256);
    expect(r.multi_token_attributes).toBe(0);
    expect(r.correct).toBeGreaterThanOrEqual(0.9 * 256);
    model.dispose();
  });
});

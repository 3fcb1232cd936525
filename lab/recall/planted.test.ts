/**
 * The pipeline tells the two planted mechanisms apart (issue 14): M1 (MLP at s_last writes the attribute,
 * a head at T reads it) shows attention extraction, a knockout dip on the subject edges in the head's
 * layer and high enrichment at s_last; M2 (a head copies the subject to T, an MLP at T looks it up) shows
 * MLP extraction, the dip one layer earlier and enrichment at s_last at the level of the other positions.
 * m = 1: the planted vocabulary has only nine clean tokens, so a larger m would count all of them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../core/backend.ts';
import { plantedFactsJsonl, writePlantedModel } from './planted.ts';
import { runRecall, type RecallResult } from './run.ts';

const tmp = mkdtempSync(join(tmpdir(), 'planted-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const results: Record<string, RecallResult> = {};

beforeAll(async () => {
  await initBackend();
  const facts = join(tmp, 'facts.jsonl');
  writeFileSync(facts, plantedFactsJsonl());
  for (const mech of ['M1', 'M2'] as const) {
    writePlantedModel(join(tmp, mech), mech);
    results[mech] = await runRecall({ model: join(tmp, mech), facts, window: 1, m: 1, target: 'attribute' });
  }
});

const ko = (r: RecallResult, block: string, layer: number) => r.knockout.find((k) => k.block === block && k.layer === layer)!.delta_p_pct;
const ex = (r: RecallResult, sub: string, layer: number) => r.extraction.find((e) => e.sublayer === sub && e.layer === layer)!.rate;
const en = (r: RecallResult, pos: string, layer: number) => r.enrichment.find((e) => e.position === pos && e.layer === layer && e.lens === 'raw')!.attributes_rate;

describe('planted mechanisms', () => {
  it('both models know every fact', () => {
    for (const r of Object.values(results)) {
      expect(r.queries).toBe(4);
      expect(r.accuracy).toBe(1);
    }
  });

  it('extraction: attention at T for M1, MLP at T for M2', () => {
    const [m1, m2] = [results.M1!, results.M2!];
    expect(ex(m1, 'attn', 1)).toBe(1);
    expect(Math.max(ex(m1, 'mlp', 0), ex(m1, 'mlp', 1))).toBe(0);
    expect(ex(m2, 'mlp', 0)).toBe(1);
    expect(Math.max(ex(m2, 'attn', 0), ex(m2, 'attn', 1))).toBe(0);
  });

  it('knockout: cutting T from the subject hurts in the reading layer only', () => {
    const [m1, m2] = [results.M1!, results.M2!];
    expect(ko(m1, 'subject', 1)).toBeLessThan(-90);
    expect(Math.abs(ko(m1, 'subject', 0))).toBeLessThan(1);
    expect(ko(m2, 'subject', 0)).toBeLessThan(-90);
    expect(Math.abs(ko(m2, 'subject', 1))).toBeLessThan(1);
    for (const r of [m1, m2]) for (const l of [0, 1]) expect(Math.abs(ko(r, 'non_subject', l))).toBeLessThan(5);
  });

  it('enrichment at s_last: high for M1, at the baseline (the subject first token\'s rate) for M2', () => {
    const [m1, m2] = [results.M1!, results.M2!];
    expect(en(m1, 'subject_last', 0)).toBe(100);
    expect(en(m2, 'subject_last', 0)).toBe(0);
    expect(en(m2, 'subject_last', 1)).toBeLessThanOrEqual(en(m2, 'subject_first', 1));
    // Knocking out M1's layer-0 MLP empties its subject representation.
    const k = results.M1!.enrichment_knockout.find((e) => e.sublayer === 'mlp' && e.start_layer === 0)!;
    expect(k.attributes_rate).toBe(0);
  });
});

/**
 * The knockout table of lab/recall against the float64 PyTorch peer (activations/peers/knockout_torch.py,
 * written from the reference notebook's loop) on the tiny random checkpoints of
 * activations/testdata/knockout-golden.json, whose spec and query travel in the golden itself.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, writeRandomCheckpoint, type RandomCheckpointSpec, type TransformerModel } from '../../activations/index.ts';
import { initBackend } from '../core/backend.ts';
import { packagePath } from '../core/index.ts';
import { analyseQuery } from './analysis.ts';

interface GoldenCase {
  spec: RandomCheckpointSpec;
  query: { ids: number[]; subject: [number, number]; window: number };
  knockout: { target: number; p_base: number; rows: { layer: number; block: string; p_blocked: number; delta_p_pct: number }[] };
}
const golden = JSON.parse(readFileSync(packagePath('activations', 'testdata', 'knockout-golden.json'), 'utf8')) as { cases: Record<string, GoldenCase> };

const tmp = mkdtempSync(join(tmpdir(), 'recall-knockout-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend();
});

describe('attention knockout table matches PyTorch', () => {
  for (const [name, g] of Object.entries(golden.cases)) {
    it(`${name}: target, p_base, p_blocked and delta_p_pct per (block, layer)`, async () => {
      const dir = join(tmp, name);
      writeRandomCheckpoint(dir, g.spec);
      const model = (await loadModel(dir)) as TransformerModel;
      const [first, end] = g.query.subject;
      const a = analyseQuery(model, { ids: g.query.ids, first, end }, { window: g.query.window, reprLayer: 0, clean: new Uint8Array(g.spec.vocabSize) });
      expect(a.target).toBe(g.knockout.target);
      expect(Math.abs(a.pBase - g.knockout.p_base)).toBeLessThanOrEqual(1e-6);
      expect(a.knockout).toHaveLength(g.knockout.rows.length);
      let maxP = 0;
      let maxPct = 0;
      for (const want of g.knockout.rows) {
        const got = a.knockout.find((r) => r.layer === want.layer && r.block === want.block)!;
        maxP = Math.max(maxP, Math.abs(got.p_blocked - want.p_blocked));
        maxPct = Math.max(maxPct, Math.abs(got.delta_p_pct - want.delta_p_pct));
      }
      expect(maxP).toBeLessThanOrEqual(1e-6);
      // delta_p_pct is a percentage: as a fraction, within 1e-5 (measured: about 2e-6; float32 against float64).
      expect(maxPct / 100).toBeLessThanOrEqual(1e-5);
      // Not vacuous: the knockouts move p by percents.
      expect(Math.max(...g.knockout.rows.map((r) => Math.abs(r.delta_p_pct)))).toBeGreaterThan(10);
      model.dispose();
    });
  }
});

/**
 * A recall run directory loads as kind 'recall' and gets its three charts, rendered with one point per
 * table row (layer x block, layer x position x lens, layer x sublayer).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RunDir } from '../../lab/core/index.ts';
import { loadRun } from '../load-run.ts';
import { countMarks } from '../svg-check.ts';
import { chartsFor } from './for-run.ts';
import { renderSvg } from './render.ts';

const tmp = mkdtempSync(join(tmpdir(), 'recall-charts-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function recallRun(dir: string): void {
  const run = RunDir.begin(dir, { kind: 'recall', seed: 0, config: { window: 1 } });
  const ko = ['layer,block,delta_p_pct'];
  const en = ['layer,position,lens,attributes_rate,queries'];
  const ex = ['layer,sublayer,rate'];
  for (let l = 0; l < 3; l++) {
    for (const b of ['subject', 'non_subject', 'last']) ko.push(`${l},${b},${-10 * l}`);
    for (const p of ['subject_first', 'subject_last', 'subject_next', 'last']) for (const lens of ['raw', 'ln_final']) en.push(`${l},${p},${lens},${l * 5},4`);
    for (const s of ['attn', 'mlp']) ex.push(`${l},${s},${l / 4}`);
  }
  run.write('knockout.csv', ko.join('\n') + '\n');
  run.write('enrichment.csv', en.join('\n') + '\n');
  run.write('extraction.csv', ex.join('\n') + '\n');
  run.finish({});
}

describe('recall charts', () => {
  it('knockout, enrichment and extraction against the layer', async () => {
    const dir = join(tmp, 'recall');
    recallRun(dir);
    const run = loadRun(dir);
    expect(run.kind).toBe('recall');
    const charts = chartsFor(run);
    expect(charts.map((c) => c.id)).toEqual(['recall_knockout', 'recall_enrichment', 'recall_extraction']);
    expect(countMarks(await renderSvg(charts[0]!.spec), 'knockout_points')).toBe(9);
    expect(countMarks(await renderSvg(charts[1]!.spec), 'enrichment_points')).toBe(24);
    expect(countMarks(await renderSvg(charts[2]!.spec), 'extraction_points')).toBe(6);
  });

  it('a complete recall run without knockout.csv is refused, naming the file', () => {
    const dir = join(tmp, 'empty');
    RunDir.begin(dir, { kind: 'recall', seed: 0, config: {} }).finish({});
    expect(() => loadRun(dir)).toThrow(/knockout\.csv is missing/);
  });
});

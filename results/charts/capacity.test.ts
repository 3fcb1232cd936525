/**
 * The importance-against-capacity chart of a capacity run: loadRun finds its tables by kind, chartsFor
 * gives the chart, and the SVG holds one point per LM (feature, hook) row and one per toy row.
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

const tmp = mkdtempSync(join(tmpdir(), 'capacity-chart-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function capacityRun(dir: string, withToy: boolean): void {
  const run = RunDir.begin(dir, { kind: 'capacity', seed: 0, config: { toy: withToy } });
  run.write('capacity.csv', 'feature,hook,frequency,importance,importance_k1,importance_kstar,capacity,dedicated,k_star,mono_share\n' +
    'a,blocks.0.mlp.hook_post,0.1,0.02,0.01,0.015,1.2,true,1,0.9\nb,blocks.0.mlp.hook_post,0.2,0.001,0,0.0005,0.3,false,8,0.1\n' +
    'a,blocks.1.mlp.hook_post,0.1,0.03,0.02,0.02,0.9,true,2,0.5\n');
  run.write('summary.csv', 'source,scope,y,x,n,rho,lo,hi,reps\nlm,pooled,importance,capacity,3,0.5,-1,1,100\n');
  if (withToy) run.write('toy.csv', 'instance,feature_prob,feature,importance,capacity,norm,dedicated,phase\n0,1,0,1,1,1,true,dedicated\n0,1,1,0.9,0.01,0.1,false,not_represented\n');
  run.finish();
}

describe('importance against capacity chart', () => {
  it('draws every LM row and every toy row, side by side', async () => {
    capacityRun(join(tmp, 'with-toy'), true);
    const charts = chartsFor(loadRun(join(tmp, 'with-toy')));
    const c = charts.find((x) => x.id === 'importance_capacity');
    expect(c).toBeDefined();
    const svg = await renderSvg(c!.spec);
    expect(countMarks(svg, 'importance_lm')).toBe(3);
    expect(countMarks(svg, 'importance_toy')).toBe(2);
  });

  it('draws the LM panel alone without a toy run, and a capacity run without capacity.csv is named', async () => {
    capacityRun(join(tmp, 'lm-only'), false);
    const c = chartsFor(loadRun(join(tmp, 'lm-only'))).find((x) => x.id === 'importance_capacity')!;
    const svg = await renderSvg(c.spec);
    expect(countMarks(svg, 'importance_lm')).toBe(3);
    expect(countMarks(svg, 'importance_toy')).toBe(0);
    const bad = join(tmp, 'bad');
    const run = RunDir.begin(bad, { kind: 'capacity', seed: 0, config: {} });
    run.write('summary.csv', 'source,scope\nlm,pooled\n');
    run.finish();
    expect(() => loadRun(bad)).toThrow(/capacity\.csv is missing/);
  });
});

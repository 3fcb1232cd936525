import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeRandomCheckpoint } from '../../activations/index.ts';
import { readManifest } from '../core/index.ts';
import { formatSummary, runDemo } from './demo.ts';

const tmp = mkdtempSync(join(tmpdir(), 'demo-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('lab demo', () => {
  it('runs harvest -> probe -> classify -> toys -> report end to end on a tiny GPT-2', async () => {
    const model = join(tmp, 'tiny');
    writeRandomCheckpoint(model, { architecture: 'gpt2', nLayers: 2, dModel: 16, nHeads: 2, vocabSize: 280, contextLength: 64, seed: 3, std: 0.3 });
    const out = join(tmp, 'out');
    const s = await runDemo({ model, out, seed: 0, maxTokens: 1500, methods: ['mean_dif'], toySteps: 400, quiet: true, log: () => {} });
    // Every dataset was harvested, probed and classified over both layers' MLP neurons.
    expect(s.datasets.map((d) => d.dataset).sort()).toEqual(['brown-genre', 'brown-pos', 'compound-words', 'text-props']);
    for (const d of s.datasets) {
      expect(d.hooks).toEqual(['blocks.0.mlp.hook_post', 'blocks.1.mlp.hook_post']);
      for (const h of d.perHook) expect(h.mono + h.poly + h.dead).toBe(h.width);
      for (const kind of ['harvest', 'probe', 'classify', 'capacity']) {
        expect(readManifest(join(out, `${kind}-${d.dataset}`)).status).toBe('complete');
      }
    }
    // The toy chain compares activation labels with weight labels: a balanced accuracy in [0, 1].
    expect(s.toy.balanced_accuracy).not.toBeNull();
    expect(s.toy.balanced_accuracy!).toBeGreaterThanOrEqual(0);
    expect(s.toy.balanced_accuracy!).toBeLessThanOrEqual(1);
    // The capacity claim per dataset: one summary row per hook and x, pooled, and the toy beside it.
    expect(s.capacity.map((c) => c.dataset).sort()).toEqual(['brown-genre', 'brown-pos', 'compound-words', 'text-props']);
    // (A tiny run may leave a dataset with every feature skipped: then it has no LM rows, only the toy.)
    expect(s.capacity.some((c) => c.features > 0)).toBe(true);
    for (const c of s.capacity) {
      const rows = readFileSync(join(c.out, 'capacity.csv'), 'utf8').trim().split('\n').slice(1);
      expect(rows.length).toBe(c.features);
      const hooks = [...new Set(rows.map((r) => r.split(',')[1]!))];
      const want = c.features > 0 ? [...hooks, 'pooled'].flatMap((h) => [h, h]) : [];
      expect(c.summary.filter((x) => x.source === 'lm').map((x) => x.scope)).toEqual(want);
      expect(c.summary.some((x) => x.source === 'toy' && x.scope === 'pooled')).toBe(true);
    }
    expect(formatSummary(s)).toMatch(/capacity claim: Spearman rho/);
    const html = readFileSync(s.report, 'utf8');
    expect(html).toContain('capacity-brown-pos');
    expect(html).toContain('classify-brown-pos');
    expect(html.indexOf('classify-brown-pos')).toBeLessThan(html.indexOf('harvest-brown-pos'));
    expect(formatSummary(s)).toContain(`dashboard: ${s.report}`);
  }, 300_000);

  it('names --model when the folder holds no checkpoint', async () => {
    await expect(runDemo({ model: join(tmp, 'nothing'), out: join(tmp, 'x'), seed: 0, maxTokens: 1500, methods: ['mean_dif'], toySteps: 400, quiet: true, log: () => {} })).rejects.toThrow(/--model .*nothing: no config\.json/);
    expect(existsSync(join(tmp, 'x', 'report.html'))).toBe(false);
  });
});

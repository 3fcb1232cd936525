/**
 * SAE latents in the report: latent pages (a latent is a neuron of the latent store) and, per
 * feature, neurons against latents. Built on the neuron chain and an SAE whose latents are the neurons
 * reversed (results/neuron-fixtures.ts), so the answer is known: each feature's 1-sparse latent is the
 * reversal of its 1-sparse neuron, and the planted mono/poly structure (neuron 3: noun alone; neuron
 * 9: noun and verb) reappears in the latents. Opened in headless Chromium: no console error, no request.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../lab/cli.ts';
import { readJson } from '../lab/core/index.ts';
import type { ClassifyResult } from '../probes/index.ts';
import { CHAIN_HOOK, LATENT_PERM, writeLatentChain, writeNeuronChain } from './neuron-fixtures.ts';
import { neuronPageId } from './neuron-pages.ts';

const CHROMIUM = '/usr/bin/chromium';
const LATENT_HOOK = `${CHAIN_HOOK}.hook_sae_acts_post`;
let root: string;
let chain: Awaited<ReturnType<typeof writeNeuronChain>>;
let latents: Awaited<ReturnType<typeof writeLatentChain>>;
let out: string;
let html: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'latent-report-'));
  chain = await writeNeuronChain(root);
  latents = await writeLatentChain(root, chain);
  out = join(root, 'report.html');
  expect(await main(['report', chain.classify, latents.classify, '--out', out, '--quiet'])).toBe(0);
  html = readFileSync(out, 'utf8');
}, 180_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The comparison table's rows as cell texts (tags stripped). */
function compareRows(page: string): string[][] {
  const start = page.indexOf('<table class="compare">');
  const table = page.slice(start, page.indexOf('</table>', start));
  return [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].slice(1).map((m) => [...m[1]!.matchAll(/<t[dh][^>]*>([\s\S]*?)<\/t[dh]>/g)].map((c) => c[1]!.replace(/<[^>]+>/g, '')));
}

describe('SAE latents in the report', () => {
  it('gives latent pages, titled as latents, for the latent classify run', () => {
    const l28 = neuronPageId('r1', LATENT_HOOK, 28);
    const ids = [...html.matchAll(/<section class="neuron" id="([^"]+)"/g)].map((m) => m[1]!);
    expect(ids).toContain(l28);
    const section = html.slice(html.indexOf(`id="${l28}"`), html.indexOf('</section>', html.indexOf(`id="${l28}"`)));
    expect(section).toContain(`<h2>${LATENT_HOOK} latent 28 <span class="kind">mono</span>`);
    expect(section).toContain('1-sparse probe of noun');
    expect((section.match(/<div class="ctx"/g) ?? []).length).toBeGreaterThanOrEqual(12);
    // The neuron run's pages stay neuron pages.
    expect(html).toContain(`<h2>${CHAIN_HOOK} neuron 3 <span class="kind">mono</span>`);
  });

  it('compares neurons and latents per feature with the two runs\' own figures, linked to both runs\' pages', () => {
    const n = readJson<ClassifyResult>(join(chain.classify, 'classify.json'));
    const l = readJson<ClassifyResult>(join(latents.classify, 'classify.json'));
    const rows = compareRows(html);
    expect(rows.map((r) => r[0])).toEqual(['noun', 'verb', 'mean over 2']);
    for (const feature of ['noun', 'verb']) {
      const nf = n.features.find((f) => f.feature === feature)!, lf = l.features.find((f) => f.feature === feature)!;
      const row = rows.find((r) => r[0] === feature)!;
      expect(row.slice(1, 9)).toEqual([nf.f1_k1!.toFixed(3), lf.f1_k1!.toFixed(3), String(nf.k1_neuron), String(lf.k1_neuron), String(nf.k_star), String(lf.k_star), nf.best_f1!.toFixed(3), lf.best_f1!.toFixed(3)]);
      // The SAE is a permutation: the best latent is the best neuron's image.
      expect(lf.k1_neuron).toBe(LATENT_PERM.indexOf(nf.k1_neuron!));
    }
    // Mono share: noun is carried by neuron 3 (alone) and neuron 9 (with verb); verb by 9 only. Same for latents 28 and 22.
    expect(rows[0]!.slice(9)).toEqual(['0.50 (1/2)', '0.50 (1/2)']);
    expect(rows[1]!.slice(9)).toEqual(['0.00 (0/1)', '0.00 (0/1)']);
    expect(html).toContain(`<a href="#${neuronPageId('r0', CHAIN_HOOK, 3)}">3</a>`);
    expect(html).toContain(`<a href="#${neuronPageId('r1', LATENT_HOOK, 28)}">28</a>`);
    expect(html).toContain('<a href="#compare-0">');
  });

  it('compares a probe run too (F1 and k* from its sweep, no mono share), and nothing without a latent run', async () => {
    const both = join(root, 'probe-vs.html');
    expect(await main(['report', chain.classify, latents.probe, '--out', both, '--quiet', '--no-neuron-pages'])).toBe(0);
    const page = readFileSync(both, 'utf8');
    const l = readJson<ClassifyResult>(join(latents.classify, 'classify.json'));
    const rows = compareRows(page);
    const noun = rows.find((r) => r[0] === 'noun')!;
    const lf = l.features.find((f) => f.feature === 'noun')!;
    expect([noun[2], noun[4], noun[6]]).toEqual([lf.f1_k1!.toFixed(3), '28', String(lf.k_star)]);
    expect(noun[10]).toBe('');
    const alone = join(root, 'alone.html');
    expect(await main(['report', chain.classify, chain.probe, '--out', alone, '--quiet', '--no-neuron-pages'])).toBe(0);
    expect(readFileSync(alone, 'utf8')).not.toContain('<table class="compare">');
  });

  it('opens in headless Chromium at a latent page and at the comparison: no console error, no request', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (sudo .ci/system-deps)`);
    const { chromium } = await import('playwright-core');
    const profile = mkdtempSync(join(tmpdir(), 'latent-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true, viewport: { width: 1200, height: 1000 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
    });
    try {
      const page = await context.newPage();
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('request', (r) => requests.push(r.url()));
      const l28 = neuronPageId('r1', LATENT_HOOK, 28);
      await page.goto(`file://${out}#${l28}`, { waitUntil: 'load' });
      const shown = await page.$$eval('section.neuron', (els) => els.filter((e) => getComputedStyle(e).display !== 'none').map((e) => e.id));
      expect(shown).toEqual([l28]);
      const ctx = await page.$$eval(`#${l28} div.ctx`, (els) => els.map((e) => e.getBoundingClientRect().width));
      expect(ctx.length).toBeGreaterThanOrEqual(12);
      for (const w of ctx) expect(w).toBeGreaterThan(50);
      // The nav's link reaches the comparison, whose neuron link opens the neuron run's page.
      await page.click('nav a[href="#compare-0"]');
      const box = await page.$eval('#compare-0 table.compare', (e) => e.getBoundingClientRect());
      expect(box.width).toBeGreaterThan(300);
      expect(box.height).toBeGreaterThan(40);
      const n3 = neuronPageId('r0', CHAIN_HOOK, 3);
      await page.click(`#compare-0 a[href="#${n3}"]`);
      expect(await page.$eval(`#${n3}`, (e) => getComputedStyle(e).display)).toBe('block');
      expect(problems).toEqual([]);
      expect(new Set(requests)).toEqual(new Set([`file://${out}`]));
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    }
  }, 120_000);
});

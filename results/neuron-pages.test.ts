/**
 * Neuron pages in the report: built from a real chain (store -> lab's sweep -> classify), linked from
 * the selectivity heatmap and the features table and back, and opened in headless Chromium at a page's
 * anchor: no console error, no request, its contexts drawn.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../lab/cli.ts';
import { CHAIN_HOOK, writeNeuronChain } from './neuron-fixtures.ts';
import { neuronPageId } from './neuron-pages.ts';

const CHROMIUM = '/usr/bin/chromium';
let root: string;
let out: string;
let html: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'neuron-pages-'));
  const chain = await writeNeuronChain(root);
  const text = join(root, 'text.txt');
  writeFileSync(text, 'The quick brown fox jumps over the lazy dog, and then it runs away into the woods again.\n');
  out = join(root, 'report.html');
  expect(await main(['report', chain.classify, '--out', out, '--quiet', '--ablate-text', text])).toBe(0);
  html = readFileSync(out, 'utf8');
}, 60_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const page3 = neuronPageId('r0', CHAIN_HOOK, 3);

describe('neuron pages in the report', () => {
  it('has a page for the 1-sparse probes\' neurons, linked from the heatmap and the features table, and back', () => {
    const ids = [...html.matchAll(/<section class="neuron" id="([^"]+)"/g)].map((m) => m[1]!);
    expect(ids).toContain(page3);
    expect(ids).toContain(neuronPageId('r0', CHAIN_HOOK, 9));
    const section = html.slice(html.indexOf(`id="${page3}"`), html.indexOf('</section>', html.indexOf(`id="${page3}"`)));
    expect(section).toContain('1-sparse probe of noun');
    expect(section).toMatch(/<span class="kind">mono<\/span>/);
    expect(section).toContain('href="#run-0"');
    // Top contexts: shaded tokens, the row's own token marked; histogram per feature; logits; ablation.
    expect((section.match(/<div class="ctx"/g) ?? []).length).toBeGreaterThanOrEqual(12);
    expect(section).toMatch(/<span class="p(9|10) own" title="\d\.\d{3}">/);
    expect(section).toMatch(/<td>noun<\/td><td class="num">\d+<\/td><td class="bars"><svg/);
    expect(section).toContain('promotes');
    expect(section).toMatch(/zero-ablated over 89 bytes: loss \d\.\d{5} &rarr; \d\.\d{5} nats\/token/);
    // Links in: a heatmap cell and the features table's k1_neuron.
    const heat = html.slice(html.indexOf('data-chart="selectivity"'), html.indexOf('</figure>', html.indexOf('data-chart="selectivity"')));
    expect(heat).toContain(`href="#${page3}"`);
    expect(html).toMatch(new RegExp(`<td><a href="#${page3}">3</a></td>`));
    expect(html).not.toMatch(/<script/i);
  });

  it('opens at a page\'s anchor in headless Chromium: no console error, no request, the contexts drawn', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (sudo .ci/system-deps)`);
    const { chromium } = await import('playwright-core');
    const profile = mkdtempSync(join(tmpdir(), 'neuron-chromium-'));
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
      const url = `file://${out}#${page3}`;
      await page.goto(url, { waitUntil: 'load' });
      expect(problems).toEqual([]);
      expect(requests).toEqual([`file://${out}`]);
      // Only the targeted page is displayed; its contexts have drawn tokens.
      const shown = await page.$$eval('section.neuron', (els) => els.filter((e) => getComputedStyle(e).display !== 'none').map((e) => e.id));
      expect(shown).toEqual([page3]);
      const ctx = await page.$$eval(`#${page3} div.ctx`, (els) => els.map((e) => ({ w: e.getBoundingClientRect().width, text: e.textContent ?? '' })));
      expect(ctx.length).toBeGreaterThanOrEqual(12);
      for (const c of ctx) expect(c.w).toBeGreaterThan(50);
      expect(ctx.every((c) => /[A-Z]/.test(c.text))).toBe(true);
      // Following the back link leaves the page hidden again.
      await page.click(`#${page3} a[href="#run-0"]`);
      expect(await page.$eval(`#${page3}`, (e) => getComputedStyle(e).display)).toBe('none');
      // A heatmap cell's link opens the page again.
      await page.click(`figure[data-chart="selectivity"] a[href="#${page3}"] path`);
      expect(await page.$eval(`#${page3}`, (e) => getComputedStyle(e).display)).toBe('block');
      expect(requests).toEqual([`file://${out}`]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    }
  }, 60_000);
});

/**
 * Size and load time of an HTML report in headless Chromium (Debian's /usr/bin/chromium), plain and at
 * a neuron page's anchor (the first <section class="neuron">):
 *   npx tsx bench/report-load.ts REPORT.html [--repeats 3]
 * Load time: navigationStart to loadEventEnd, median over the repeats, fresh page each time.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: npx tsx bench/report-load.ts REPORT.html [--repeats N]\n');
  process.exit(2);
}
const repeats = Number(process.argv[process.argv.indexOf('--repeats') + 1]) || 3;
const path = resolve(file);
const html = readFileSync(path, 'utf8');
const firstPage = /<section class="neuron" id="([^"]+)"/.exec(html)?.[1];
const { chromium } = await import('playwright-core');
const profile = mkdtempSync(join(tmpdir(), 'report-load-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1200, height: 1000 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
});
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const timeOf = async (url: string): Promise<number> => {
  const page = await context.newPage();
  await page.goto(url, { waitUntil: 'load' });
  const ms = await page.evaluate(() => { const t = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming; return t.loadEventEnd - t.startTime; });
  await page.close();
  return ms;
};
try {
  const plain: number[] = [], anchored: number[] = [];
  for (let i = 0; i < repeats; i++) {
    plain.push(await timeOf(`file://${path}`));
    if (firstPage) anchored.push(await timeOf(`file://${path}#${firstPage}`));
  }
  const pages = (html.match(/<section class="neuron"/g) ?? []).length;
  process.stdout.write(JSON.stringify({ file: path, bytes: statSync(path).size, neuron_pages: pages, load_ms: median(plain), load_ms_at_page: firstPage ? median(anchored) : null, repeats }) + '\n');
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../lab/cli.ts';
import { parseXml, markItems } from './svg-check.ts';
import { writeAllFixtures } from './test-fixtures.ts';

const CHROMIUM = '/usr/bin/chromium';

let root: string;
let dirs: Record<string, string>;
let html: string;
let out: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'results-report-'));
  dirs = writeAllFixtures(root);
  out = join(root, 'report.html');
  const code = await main(['report', ...Object.values(dirs), '--out', out, '--quiet']);
  expect(code).toBe(0);
  html = readFileSync(out, 'utf8');
}, 60_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

function svgs(page: string): string[] {
  return [...page.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => m[0]);
}

describe('lab report', () => {
  it('writes one file atomically, with no temp file left beside it', () => {
    expect(existsSync(out)).toBe(true);
    expect(readdirSync(root).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('holds a section per run and every chart each kind gets, as well-formed inline SVG', () => {
    expect(html.match(/<section class="run"/g)).toHaveLength(6);
    const ids = [...html.matchAll(/data-chart="([a-z_0-9]+)"/g)].map((m) => m[1]);
    // toy (m=2): geometry, norms, dimensionality, capacity, totals; toy with neurons: the same but geometry
    // plus its weight-share heatmap and label counts; sweep: phase; probe: F1 vs k; classify: a heatmap per
    // layer, label counts, capacity against the toy's C_i and the confusion matrix against its weight-based labels.
    expect(ids).toEqual([
      'toy_geometry', 'norm_interference', 'dimensionality', 'capacity', 'total_capacity',
      'norm_interference', 'dimensionality', 'capacity', 'total_capacity', 'selectivity', 'label_counts',
      'phase', 'f1_vs_k', 'selectivity', 'selectivity', 'label_counts', 'capacity_agreement', 'confusion',
    ]);
    const all = svgs(html);
    expect(all).toHaveLength(ids.length);
    for (const s of all) expect(parseXml(s).tag).toBe('svg');
    const chart = (i: number) => parseXml(all[i]!);
    // The classify run's counts: layer 0 has 3 mono, 2 poly, 1 dead; layer 1 the same plus one dead.
    const counts = markItems(chart(15), 'label_bars').map((b) => b.attrs['aria-label']);
    expect(counts).toHaveLength(6);
    expect(counts.some((l) => /blocks\.1\.mlp\.hook_post.*label: dead.*count: 2/.test(l ?? ''))).toBe(true);
    // Heatmaps: 6 neurons x 2 features in layer 0, 7 x 2 in layer 1; the confusion matrix 3 x 3 with its counts.
    expect(markItems(chart(13), 'selectivity_cells')).toHaveLength(12);
    expect(markItems(chart(14), 'selectivity_cells')).toHaveLength(14);
    // Capacity against the toy's C_i: 2 features x 2 layers.
    expect(markItems(chart(16), 'capacity_agreement')).toHaveLength(4);
    expect(markItems(chart(17), 'confusion_cells')).toHaveLength(9);
    const texts = markItems(chart(17), 'confusion_counts').map((n) => Number(/count: (\d+)/.exec(n.attrs['aria-label'] ?? '')?.[1]));
    expect(texts.reduce((a, b) => a + b, 0)).toBe(13);
  });

  it('is self-contained: no scripts, no external URLs, no web fonts', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/@import|@font-face/i);
    const urls = [...html.matchAll(/(?:src|href)\s*=\s*"([^"]*)"/g)].map((m) => m[1]!);
    for (const u of urls) expect(u.startsWith('#') || u.startsWith('data:')).toBe(true);
    // xmlns declarations name namespaces, they are never fetched; nothing else may mention http(s).
    const stripped = html.replace(/xmlns(:\w+)?="[^"]*"/g, '');
    expect(stripped).not.toMatch(/https?:\/\//);
  });

  it('shows the harvest summary and probe table', () => {
    expect(html).toContain('fixture-model');
    expect(html).toMatch(/harvest_features \(2 rows/);
    expect(html).toMatch(/sweep \(17 rows/);
  });

  it('shows progress per chart on stderr, and prints JSON on stdout with --json', async () => {
    const err: string[] = [];
    const outLines: string[] = [];
    const writeErr = process.stderr.write.bind(process.stderr);
    const writeOut = process.stdout.write.bind(process.stdout);
    process.stderr.write = ((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write;
    process.stdout.write = ((s: string) => (outLines.push(String(s)), true)) as typeof process.stdout.write;
    const small = join(root, 'small.html');
    try {
      expect(await main(['report', dirs.sweep!, dirs.probe!, '--out', small, '--json'])).toBe(0);
    } finally {
      process.stderr.write = writeErr;
      process.stdout.write = writeOut;
    }
    expect(err.join('')).toMatch(/report \[#+\] 2\/2 .*done in/);
    const printed = JSON.parse(outLines.join(''));
    expect(printed).toMatchObject({ out: small, runs: [dirs.sweep, dirs.probe] });
    expect(printed.bytes).toBe(readFileSync(small).length);
  });

  it('fails with a clear error on a bad run directory and leaves no output', async () => {
    const bad = join(root, 'bad-out.html');
    const errors: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => (errors.push(String(s)), true)) as typeof process.stderr.write;
    try {
      expect(await main(['report', dirs.toy!, join(root, 'missing-run'), '--out', bad, '--quiet'])).toBe(1);
    } finally {
      process.stderr.write = write;
    }
    expect(errors.join('')).toMatch(/missing-run does not exist/);
    expect(existsSync(bad)).toBe(false);
    expect(await main(['report', '--out', bad, '--quiet'])).toBe(2);
  });
});

describe('the report in headless Chromium', () => {
  it('loads with no console errors and no network requests, and draws a non-blank page', async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: install Debian's chromium (sudo .ci/system-deps, or apt-get install -y chromium)`);
    }
    const { chromium } = await import('playwright-core');
    const profile = mkdtempSync(join(tmpdir(), 'results-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1200, height: 1400 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
    });
    try {
      const page = await context.newPage();
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('request', (r) => requests.push(r.url()));
      const url = `file://${out}`;
      await page.goto(url, { waitUntil: 'load' });
      expect(problems).toEqual([]);
      expect(requests).toEqual([url]);
      // Every inline SVG parsed as SVG in the browser and has a drawn size.
      const sizes = await page.$$eval('figure svg', (els) => els.map((e) => (e as SVGSVGElement).getBoundingClientRect().width));
      expect(sizes).toHaveLength(18);
      for (const w of sizes) expect(w).toBeGreaterThan(50);
      const png = await page.screenshot({ fullPage: false });
      // Decode the screenshot in a blank page and measure its grey-level variance: a blank page has none.
      const blank = await context.newPage();
      const stats = await blank.evaluate(async (b64) => {
        const img = new Image();
        img.src = `data:image/png;base64,${b64}`;
        await img.decode();
        const canvas = document.createElement('canvas');
        canvas.width = img.width;
        canvas.height = img.height;
        const g = canvas.getContext('2d')!;
        g.drawImage(img, 0, 0);
        const d = g.getImageData(0, 0, img.width, img.height).data;
        let sum = 0;
        let sum2 = 0;
        const n = d.length / 4;
        for (let i = 0; i < d.length; i += 4) {
          const v = (d[i]! + d[i + 1]! + d[i + 2]!) / 3;
          sum += v;
          sum2 += v * v;
        }
        const mean = sum / n;
        return { width: img.width, height: img.height, variance: sum2 / n - mean * mean };
      }, png.toString('base64'));
      expect(stats.width).toBe(1200);
      expect(stats.variance).toBeGreaterThan(100);
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    }
  }, 60_000);
});

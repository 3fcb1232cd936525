/**
 * The HTML dashboard: one self-contained file for any mix of runs. Charts are inline SVG, tables inline
 * HTML, styles inline CSS; there is no script and no URL, so it opens offline and never makes a request.
 */
import { basename } from 'node:path';
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { Progress } from '../lab/core/index.ts';
import { writeFileAtomic } from '../lab/core/index.ts';
import { chartsFor, type NamedChart } from './charts/for-run.ts';
import { renderSvg } from './charts/render.ts';
import { loadRun, type LoadedRun } from './load-run.ts';
import { classifyRunPages, linkHeatmapSvg, neuronIndexHtml, neuronPageHtml, neuronPageId, NEURON_CSS, type ClassifyPagesOptions } from './neuron-pages.ts';
import { InputError, LabError } from '../lab/core/index.ts';
import { comparisonHtml, latentComparisons } from './latent-compare.ts';
import type { NeuronPage } from '../probes/index.ts';

export interface ReportOptions {
  title?: string;
  /** Rows shown per table (the rest are counted, not dropped silently). */
  maxTableRows?: number;
  /** Show a progress bar on stderr (the CLI does; tests do not). */
  progress?: boolean;
  /** Load runs whose manifest is not complete (their section says so). */
  allowPartial?: boolean;
  /**
   * Neuron pages for classify runs (results/neuron-pages.ts), read from the store their probes ran on;
   * false leaves them out. A run whose store is gone gets a note instead.
   */
  neuronPages?: false | ClassifyPagesOptions;
}

/** Tables not worth showing raw: the charts already draw them, or they duplicate another table. */
const HIDDEN_TABLES = new Set(['toy_features', 'toy_geometry', 'toy_neuron_features', 'classify_features', 'classify_neurons', 'classify_selectivity', 'selectivity']);

const CSS = `
body { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; margin: 0; color: #222; background: #fafafa; }
header { background: #1f3b57; color: white; padding: 16px 24px; }
header h1 { margin: 0 0 4px 0; font-size: 20px; }
header p { margin: 0; font-size: 12px; opacity: 0.85; }
nav { padding: 8px 24px; background: #e8edf2; font-size: 13px; }
nav a { margin-right: 14px; color: #1f3b57; }
section.run { background: white; margin: 16px 24px; padding: 12px 18px; border: 1px solid #ddd; border-radius: 4px; }
section.run h2 { font-size: 17px; margin: 4px 0 8px 0; }
.kind { display: inline-block; font-size: 11px; padding: 1px 6px; border-radius: 3px; background: #1f3b57; color: white; margin-left: 6px; vertical-align: middle; }
.partial { background: #b35c00; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; font-size: 12px; margin: 6px 0 12px 0; }
dl.facts dt { color: #666; } dl.facts dd { margin: 0; font-family: monospace; }
figure { margin: 10px 0 18px 0; overflow-x: auto; }
div.scroll { overflow-x: auto; max-width: 100%; }
figcaption { font-size: 13px; font-weight: bold; margin-bottom: 4px; }
table { border-collapse: collapse; font-size: 11px; margin: 4px 0 14px 0; }
th, td { border: 1px solid #ddd; padding: 2px 6px; }
th { background: #f0f3f6; }
details summary { cursor: pointer; font-size: 13px; margin: 6px 0; }
p.note { font-size: 11px; color: #666; margin: 2px 0 10px 0; }
td.num { text-align: right; }
${NEURON_CSS}`;

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Gives a chart's SVG ids a prefix so several inline SVGs on one page cannot capture each other's clip paths. */
export function prefixSvgIds(svg: string, prefix: string): string {
  return svg.replace(/\bid="([^"]+)"/g, `id="${prefix}-$1"`).replace(/url\(#([^)]+)\)/g, `url(#${prefix}-$1)`).replace(/href="#([^"]+)"/g, `href="#${prefix}-$1"`);
}

function tableHtml(name: string, t: ColumnTable, maxRows: number): string {
  const shown = aq.toHTML(t, { limit: maxRows });
  const more = t.numRows() > maxRows ? `<p class="note">${maxRows} of ${t.numRows()} rows shown; the full table is ${escapeHtml(name)}.csv in the run directory.</p>` : '';
  return `<details${t.numRows() <= 20 ? ' open' : ''}><summary>${escapeHtml(name)} (${t.numRows()} rows x ${t.numCols()} columns)</summary><div class="scroll">${shown}</div>${more}</details>`;
}

function factsHtml(run: LoadedRun): string {
  const m = run.manifest;
  const facts: [string, string][] = [
    ['directory', run.dir],
    ['created', m.created ?? ''],
    ['status', m.status],
    ['seed', String(m.seed)],
  ];
  if (m.command) facts.push(['command', m.command]);
  if (m.backend) facts.push(['backend', m.backend]);
  for (const [k, v] of Object.entries(run.facts)) if (k !== 'seed') facts.push([k, String(v)]);
  const timings = Object.entries(m.timings ?? {}).filter(([, s]) => typeof s === 'number');
  if (timings.length > 0) facts.push(['timings', timings.map(([k, s]) => `${k} ${(s as number).toFixed(2)} s`).join(', ')]);
  const v = m.versions ?? {};
  facts.push(['versions', Object.entries(v).map(([k, x]) => `${k} ${x}`).join(', ')]);
  return `<dl class="facts">${facts.map(([k, x]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(x)}</dd>`).join('')}</dl>`;
}

function configHtml(run: LoadedRun): string {
  const json = JSON.stringify(run.manifest.config ?? {}, null, 1);
  return `<details><summary>config</summary><pre style="font-size:11px">${escapeHtml(json.length > 20000 ? json.slice(0, 20000) + '\n...' : json)}</pre></details>`;
}

/** A classify run's neuron pages, or the reason there are none (a store that is gone is not an error). */
async function pagesFor(run: LoadedRun, opts: ReportOptions): Promise<{ pages: NeuronPage[]; note?: string }> {
  if (run.kind !== 'classify' || opts.neuronPages === false || run.manifest.status !== 'complete') return { pages: [] };
  try {
    return { pages: await classifyRunPages(run.dir, opts.neuronPages ?? {}) };
  } catch (err) {
    if (err instanceof InputError || err instanceof LabError) return { pages: [], note: `No neuron pages: ${(err as Error).message}` };
    throw err;
  }
}

/** The classify run's features with their 1-sparse and best-k neurons linked to their pages. */
function featuresWithLinks(run: LoadedRun, href: (hook: string, n: number) => string | undefined, maxRows: number): string {
  const t = run.tables.classify_features;
  if (!t) return '';
  const link = (hook: string, n: number) => {
    const h = href(hook, n);
    return h ? `<a href="${escapeHtml(h)}">${n}</a>` : String(n);
  };
  const rows = (aq.from(t).objects() as Record<string, unknown>[]).slice(0, maxRows).map((r) => {
    const hook = String(r.hook);
    const k1 = typeof r.k1_neuron === 'number' ? link(hook, r.k1_neuron) : '';
    const f1 = (v: unknown) => (typeof v === 'number' ? v.toFixed(3) : '');
    return `<tr><td>${escapeHtml(String(r.feature))}</td><td>${escapeHtml(hook)}</td><td>${escapeHtml(String(r.status))}</td><td class="num">${f1(r.f1_k1)}</td><td>${k1}</td><td>${r.dedicated === true || r.dedicated === 'true' ? 'yes' : ''}</td><td class="num">${escapeHtml(String(r.k_star ?? ''))}</td><td class="num">${f1(r.best_f1)}</td></tr>`;
  });
  return `<details open><summary>features (${t.numRows()} rows; neuron numbers link to their pages)</summary><div class="scroll"><table><tr><th>feature</th><th>hook</th><th>status</th><th>f1_k1</th><th>k1_neuron</th><th>dedicated</th><th>k_star</th><th>best_f1</th></tr>${rows.join('')}</table></div></details>`;
}

type RunPages = { pages: NeuronPage[]; note?: string };

/** The href of a run's page for (hook, unit), when the run has that page. */
function pageHref(pages: NeuronPage[], index: number): (hook: string | undefined, n: number) => string | undefined {
  const existing = new Set(pages.map((p) => `${p.hook}:${p.neuron}`));
  return (hook, n) => (hook !== undefined && existing.has(`${hook}:${n}`) ? `#${neuronPageId(`r${index}`, hook, n)}` : undefined);
}

/** Renders every run's section; `onChart` is called after each chart (for progress). */
async function runSection(run: LoadedRun, index: number, charts: NamedChart[], maxRows: number, onChart: (title: string) => void, { pages, note }: RunPages): Promise<string> {
  const parts: string[] = [];
  const scope = `r${index}`;
  const existing = new Set(pages.map((p) => `${p.hook}:${p.neuron}`));
  const href = pageHref(pages, index);
  const partial = run.manifest.status !== 'complete';
  parts.push(
    `<section class="run" id="run-${index}"><h2>${escapeHtml(run.name)}<span class="kind${partial ? ' partial' : ''}">${escapeHtml(run.kind)}${partial ? ' (partial)' : ''}</span></h2>`,
  );
  parts.push(factsHtml(run));
  for (const [i, c] of charts.entries()) {
    // Links go in after the ids are prefixed: prefixSvgIds rewrites every in-document href.
    const own = prefixSvgIds(await renderSvg(c.spec), `r${index}c${i}`);
    const svg = c.id === 'selectivity' && pages.length ? linkHeatmapSvg(own, c.spec, href) : own;
    parts.push(`<figure data-chart="${escapeHtml(c.id)}"><figcaption>${escapeHtml(c.title)}</figcaption>${svg}</figure>`);
    onChart(c.title);
  }
  for (const [name, t] of Object.entries(run.tables)) {
    if (HIDDEN_TABLES.has(name)) continue;
    parts.push(tableHtml(name, t, maxRows));
  }
  if (run.kind === 'classify') {
    parts.push(featuresWithLinks(run, (h, n) => href(h, n), maxRows));
    if (pages.length) parts.push(neuronIndexHtml(pages, scope, `neurons-${scope}`));
    if (note) parts.push(`<p class="note">${escapeHtml(note)}</p>`);
  }
  parts.push(configHtml(run));
  parts.push('</section>');
  for (const p of pages) parts.push(neuronPageHtml(p, { scope, back: { href: `#run-${index}`, text: `back to ${run.name}` }, existing }));
  return parts.join('\n');
}

/**
 * When the newest of the runs was made (its manifest's `created`). The page states this rather than the
 * time it was written, so the same runs give the same bytes (determinism: same inputs, same report).
 */
function newestRun(runs: readonly LoadedRun[]): string {
  const times = runs.map((r) => String(r.manifest.created ?? '')).filter((t) => t.length > 0).sort();
  return times.length > 0 ? times[times.length - 1]! : 'unknown';
}

/** Builds the dashboard for loaded runs (or run directories) and returns the HTML. */
export async function buildReport(runsOrDirs: (LoadedRun | string)[], opts: ReportOptions = {}): Promise<string> {
  const runs = runsOrDirs.map((r) => (typeof r === 'string' ? loadRun(r, { allowPartial: opts.allowPartial }) : r));
  const charts = runs.map((r) => chartsFor(r));
  const total = charts.reduce((a, c) => a + c.length, 0);
  const progress = new Progress({ label: 'report', total, unit: 'chart', silent: !opts.progress });
  let done = 0;
  const sections: string[] = [];
  const pageSets: RunPages[] = [];
  for (const run of runs) pageSets.push(await pagesFor(run, opts));
  for (const [i, run] of runs.entries()) {
    sections.push(await runSection(run, i, charts[i]!, opts.maxTableRows ?? 50, (title) => progress.update(++done, title), pageSets[i]!));
  }
  // Neurons against SAE latents, for each neuron run and latent run of the same hook and dataset.
  const comparisons = latentComparisons(runs);
  comparisons.forEach((c, k) => sections.push(comparisonHtml(c, `compare-${k}`, (side, hook, n) => pageHref(pageSets[side.index]!.pages, side.index)(hook, n))));
  progress.finish();
  const title = opts.title ?? `neuronlab report: ${runs.map((r) => r.name).join(', ')}`;
  const nav = runs.map((r, i) => `<a href="#run-${i}">${escapeHtml(r.name)} (${escapeHtml(r.kind)})</a>`).join('') +
    comparisons.map((c, k) => `<a href="#compare-${k}">neurons vs latents (${escapeHtml(c.neurons.run.name)}, ${escapeHtml(c.latents.run.name)})</a>`).join('');
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    // An empty data: icon stops the browser from asking the server (or disk) for /favicon.ico.
    '<link rel="icon" href="data:,">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${CSS}</style></head><body>`,
    `<header><h1>${escapeHtml(title)}</h1><p>${runs.length} run${runs.length === 1 ? '' : 's'}, ${total} chart${total === 1 ? '' : 's'}; newest run ${escapeHtml(newestRun(runs))}; written by lab report</p></header>`,
    `<nav>${nav}</nav>`,
    ...sections,
    '</body></html>',
  ].join('\n');
}

/** Builds the dashboard and writes it atomically to `out`; returns the byte count. */
export async function writeReport(dirs: string[], out: string, opts: ReportOptions = {}): Promise<number> {
  const html = await buildReport(dirs, opts);
  writeFileAtomic(out, html);
  return Buffer.byteLength(html);
}

export function defaultReportName(dirs: string[]): string {
  return dirs.length === 1 ? `${basename(dirs[0]!.replace(/\/+$/, ''))}-report.html` : 'report.html';
}

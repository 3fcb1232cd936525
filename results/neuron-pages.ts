/**
 * Neuron pages as HTML: one <section> per neuron, shown only while it is the URL's target (CSS
 * :target), so a report with many pages opens as fast as one without and still needs no script. Each
 * page has the top contexts with every token shaded by the neuron's activation, the quantile samples,
 * the histogram over all rows and per feature (inline SVG drawn here), the logit table, the label and
 * selectivity, and the ablation when it was measured; it links back to where it was reached from.
 */
import type { ChartSpec } from './charts/render.ts';
import type { NeuronPage } from '../probes/index.ts';
import { LATENT_HOOK_SUFFIX } from '../activations/index.ts';

/** What a unit of a hook is called: a latent of an SAE's latent store, else a neuron (same page either way). */
export function unitName(hook: string): 'latent' | 'neuron' {
  return hook.endsWith(LATENT_HOOK_SUFFIX) ? 'latent' : 'neuron';
}

/** Shade levels: pN orange (positive), nN blue (negative), opacity N/10 of |a| / the page's largest |a|. */
const SHADES = Array.from({ length: 11 }, (_, i) => `div.ctx span.p${i} { background: rgba(230,120,20,${(i / 10).toFixed(1)}); } div.ctx span.n${i} { background: rgba(40,100,200,${(i / 10).toFixed(1)}); }`).join('\n');

export const NEURON_CSS = `
section.neuron { display: none; background: white; margin: 16px 24px; padding: 12px 18px; border: 2px solid #1f3b57; border-radius: 4px; }
section.neuron:target { display: block; }
section.neuron h2 { font-size: 17px; margin: 4px 0 8px 0; }
section.neuron h3 { font-size: 14px; margin: 14px 0 4px 0; }
div.ctx { font-family: 'DejaVu Sans Mono', monospace; font-size: 12px; white-space: pre; margin: 1px 0; overflow-x: auto; }
div.ctx span { border-radius: 2px; }
div.ctx span.own { outline: 1px solid #222; font-weight: bold; }
div.ctx span.v { display: inline-block; width: 80px; color: #555; }
${SHADES}
span.why { display: inline-block; font-size: 11px; background: #e8edf2; border-radius: 3px; padding: 1px 5px; margin: 0 4px 2px 0; }
table.hist td.bars { padding: 0; }
`;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The page's anchor: `neuron-<scope>-<hook>-<neuron>`, with the hook's dots made safe for an id. */
export function neuronPageId(scope: string, hook: string, neuron: number): string {
  return `neuron-${scope}-${hook.replace(/[^A-Za-z0-9_-]/g, '_')}-${neuron}`;
}

/** Shows a token's text so that spaces and line breaks stay visible in a context line. */
function tokenText(t: string): string {
  return esc(t.replace(/\n/g, '\u21b5').replace(/\t/g, '\u21e5'));
}

function shade(a: number, scale: number): string {
  const x = scale > 0 ? Math.round(10 * Math.min(1, Math.abs(a) / scale)) : 0;
  return `${a >= 0 ? 'p' : 'n'}${x}`;
}

function contextLine(s: NeuronPage['top'][number], scale: number): string {
  // Short markup per token (a report holds thousands): a shade class, the activation as the hover title.
  const toks = s.tokens.map((t, i) => `<span class="${shade(t.activation, scale)}${i === s.index ? ' own' : ''}" title="${t.activation.toFixed(3)}">${tokenText(t.text)}</span>`).join('');
  return `<div class="ctx" data-row="${s.row}"><span class="v">${s.activation.toFixed(4)}</span>${toks}</div>`;
}

/** Small bar chart of one histogram row: one path for all bars (a report holds thousands of rows), the counts in its title. */
function bars(counts: number[], color: string): string {
  const W = 300, H = 36, n = counts.length;
  const max = Math.max(1, ...counts);
  const w = W / n;
  const d = counts.map((c, i) => {
    if (c <= 0) return '';
    const h = (H * c) / max;
    return `M${(i * w).toFixed(1)} ${(H - h).toFixed(1)}h${Math.max(0.5, w - 0.5).toFixed(1)}v${h.toFixed(1)}h-${Math.max(0.5, w - 0.5).toFixed(1)}z`;
  }).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img"><title>${counts.join(' ')}</title><path d="${d}" fill="${color}"/></svg>`;
}

function histogramHtml(p: NeuronPage): string {
  const h = p.histogram;
  const rows = [`<tr><td>all rows</td><td class="num">${p.rows}</td><td class="bars">${bars(h.counts, '#777')}</td></tr>`];
  for (const [f, c] of Object.entries(h.by_feature)) {
    const n = h.positives[f] ?? 0;
    if (n > 0) rows.push(`<tr><td>${esc(f)}</td><td class="num">${n}</td><td class="bars">${bars(c, '#c0601a')}</td></tr>`);
  }
  const lo = h.edges[0] ?? 0, hi = h.edges[h.edges.length - 1] ?? 0;
  return `<table class="hist"><tr><th>rows</th><th>n</th><th>activation ${lo.toFixed(3)} .. ${hi.toFixed(3)} (${h.counts.length} bins; bars scaled per row)</th></tr>${rows.join('')}</table>`;
}

function logitsHtml(p: NeuronPage): string {
  if (!p.logits) return '<p class="note">No logit effects: they need --model and a blocks.L.mlp.hook_post neuron.</p>';
  const cell = (l: { token: string; token_id: number; value: number }) => `<td>${tokenText(JSON.stringify(l.token))}</td><td class="num">${l.value.toFixed(3)}</td>`;
  const n = Math.max(p.logits.top.length, p.logits.bottom.length);
  const rows = Array.from({ length: n }, (_, i) => `<tr>${p.logits!.top[i] ? cell(p.logits!.top[i]!) : '<td></td><td></td>'}${p.logits!.bottom[i] ? cell(p.logits!.bottom[i]!) : '<td></td><td></td>'}</tr>`);
  return `<table class="logits"><tr><th colspan="2">promotes</th><th colspan="2">suppresses</th></tr>${rows.join('')}</table>` +
    '<p class="note">Direct effect on the logits per unit of activation: centred W_out[n] times the final LN scale times W_U, centred over the vocabulary (TransformerLens W_out @ W_U with fold_ln).</p>';
}

export interface PageLinks {
  /** Scope of the page ids (e.g. the run's index in the report). */
  scope: string;
  /** Where the page's "back" link goes. */
  back: { href: string; text: string };
  /** Pages that exist, so correlated neurons link only to real pages ("hook:neuron"). */
  existing?: Set<string>;
}

export function neuronPageHtml(p: NeuronPage, links: PageLinks): string {
  const id = neuronPageId(links.scope, p.hook, p.neuron);
  const h = p.histogram;
  const scale = Math.max(Math.abs(h.max), Math.abs(h.min), 1e-9);
  const parts = [`<section class="neuron" id="${esc(id)}">`, `<p><a href="${esc(links.back.href)}">&larr; ${esc(links.back.text)}</a></p>`];
  const c = p.classification;
  parts.push(`<h2>${esc(p.hook)} ${unitName(p.hook)} ${p.neuron}${c ? ` <span class="kind">${esc(c.label)}</span>` : ''}</h2>`);
  if (p.why.length) parts.push(`<p>${p.why.map((w) => `<span class="why">${esc(w)}</span>`).join('')}</p>`);
  parts.push(`<dl class="facts"><dt>rows</dt><dd>${p.rows}</dd><dt>active (&gt; 0.001)</dt><dd>${(100 * h.active_frac).toFixed(2)}%</dd><dt>mean / std</dt><dd>${h.mean.toFixed(4)} / ${h.std.toFixed(4)}</dd><dt>min / max</dt><dd>${h.min.toFixed(4)} / ${h.max.toFixed(4)}</dd></dl>`);
  if (c) {
    const sel = c.selectivity.map((s) => `<tr><td>${esc(s.feature)}</td><td class="num">${s.share.toFixed(3)}</td><td class="num">${s.response.toFixed(4)}</td><td class="num">${s.z.toFixed(2)}</td></tr>`).join('');
    parts.push(`<h3>Label and selectivity</h3><p>${esc(c.label)}: ${esc(c.features.join(', ') || 'no feature')}</p><table><tr><th>feature</th><th>share</th><th>response (mean diff)</th><th>z</th></tr>${sel}</table>`);
  }
  if (p.ablation) {
    const a = p.ablation;
    parts.push(`<h3>What the model loses without it</h3><p>${esc(a.mode)}-ablated over ${a.text_bytes} bytes: loss ${a.base_loss.toFixed(5)} &rarr; ${a.ablated_loss.toFixed(5)} nats/token (${a.delta_loss >= 0 ? '+' : ''}${a.delta_loss.toFixed(5)}; ${a.delta_bits_per_byte >= 0 ? '+' : ''}${a.delta_bits_per_byte.toFixed(5)} bits/byte)</p>`);
  }
  parts.push(`<h3>Top ${p.top.length} activations</h3>`, ...p.top.map((s) => contextLine(s, scale)));
  parts.push('<h3>Samples by quantile of the active values</h3>');
  if (p.quantiles.length === 0) parts.push('<p class="note">The neuron is never active (&gt; 0.001).</p>');
  for (const g of [...p.quantiles].reverse()) {
    parts.push(`<p class="note">${g.lo.toFixed(4)} .. ${g.hi.toFixed(4)}: ${g.count} rows (${(100 * g.frac).toFixed(2)}% of all)</p>`, ...g.examples.map((s) => contextLine(s, scale)));
  }
  parts.push('<h3>Histogram, over all rows and over each feature\'s positives</h3>', histogramHtml(p));
  parts.push('<h3>Logit effects</h3>', logitsHtml(p));
  if (p.correlated.length) {
    const items = p.correlated.map((x) => {
      const label = `${esc(x.hook)} ${unitName(x.hook)} ${x.neuron}`;
      const link = links.existing?.has(`${x.hook}:${x.neuron}`) ? `<a href="#${esc(neuronPageId(links.scope, x.hook, x.neuron))}">${label}</a>` : label;
      return `<tr><td>${link}</td><td class="num">${x.pearson.toFixed(3)}</td></tr>`;
    }).join('');
    parts.push(`<h3>Most correlated ${unitName(p.hook)}s (Pearson, all rows)</h3><table><tr><th>${unitName(p.hook)}</th><th>r</th></tr>${items}</table>`);
  }
  parts.push('</section>');
  return parts.join('\n');
}

/** An index table of pages: hook, neuron, label, reasons; each row links to its page. */
export function neuronIndexHtml(pages: NeuronPage[], scope: string, id: string): string {
  const rows = pages.map((p) => `<tr><td>${esc(p.hook)}</td><td><a href="#${esc(neuronPageId(scope, p.hook, p.neuron))}">${unitName(p.hook)} ${p.neuron}</a></td><td>${esc(p.classification?.label ?? '')}</td><td>${esc(p.why.join('; '))}</td></tr>`).join('');
  return `<details open id="${esc(id)}"><summary>neuron pages (${pages.length})</summary><table><tr><th>hook</th><th>neuron</th><th>label</th><th>why</th></tr>${rows}</table></details>`;
}

/**
 * Links each cell of a rendered selectivity heatmap whose neuron has a page: the cell's SVG path (its
 * aria-label starts with "neuron: N;", from the chart's tooltip) is wrapped in <a href="#page">. Done on
 * the SVG because Vega resolves href channels asynchronously through its loader, which the headless
 * renderer here does not have. The chart's hook is the one hook of its data (one heatmap per layer).
 */
export function linkHeatmapSvg(svg: string, spec: ChartSpec, href: (hook: string | undefined, neuron: number) => string | undefined): string {
  const values = (spec as { data?: { values?: Record<string, unknown>[] } }).data?.values ?? [];
  const hooks = [...new Set(values.map((r) => r.hook).filter((h): h is string => typeof h === 'string'))];
  const hook = hooks.length === 1 ? hooks[0] : undefined;
  return svg.replace(/<path\b[^>]*\baria-label="neuron: (\d+);[^"]*"[^>]*\/>/g, (cell, n: string) => {
    const h = href(hook, Number(n));
    return h ? `<a href="${esc(h)}">${cell}</a>` : cell;
  });
}

/** A standalone page set (lab neurons --out): every page visible, one after the other. */
export function neuronPagesHtml(pages: NeuronPage[], opts: { title: string }): string {
  const existing = new Set(pages.map((p) => `${p.hook}:${p.neuron}`));
  const body = pages.map((p) => neuronPageHtml(p, { scope: 'p', back: { href: '#top', text: 'all pages' }, existing }));
  return [
    '<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">', '<link rel="icon" href="data:,">',
    `<title>${esc(opts.title)}</title>`,
    `<style>body { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; margin: 0; color: #222; background: #fafafa; } table { border-collapse: collapse; font-size: 11px; } th, td { border: 1px solid #ddd; padding: 2px 6px; } td.num { text-align: right; } p.note { font-size: 11px; color: #666; } dl.facts { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; font-size: 12px; } dl.facts dd { margin: 0; font-family: monospace; } ${NEURON_CSS} section.neuron { display: block; }</style></head><body>`,
    `<h1 id="top" style="font-size:18px;margin:16px 24px">${esc(opts.title)}</h1>`,
    `<div style="margin:0 24px">${neuronIndexHtml(pages, 'p', 'index')}</div>`,
    ...body, '</body></html>',
  ].join('\n');
}

export interface ClassifyPagesOptions {
  /** At most this many pages per classify run (default 40). */
  max?: number;
  /** Measure each page's ablation on this text with the store's model (zero mode unless given). */
  ablation?: { text: string; mode?: 'zero' | 'mean' };
}

/**
 * Pages for a classify run's neurons of interest (probes neuronsOfInterest), read from the store its
 * probes ran on, with logit effects and ablations from the store's model folder when it still exists.
 */
export async function classifyRunPages(classifyDir: string, opts: ClassifyPagesOptions = {}): Promise<NeuronPage[]> {
  const { neuronsOfInterest, neuronPages } = await import('../probes/index.ts');
  const { openActivationStore } = await import('../activations/index.ts');
  const pick = neuronsOfInterest(classifyDir, { max: opts.max ?? 40 });
  const store = openActivationStore(pick.activations);
  const m = store.manifest.model as { source?: string; dir?: string };
  const { existsSync } = await import('node:fs');
  const model = m.source === 'model' && typeof m.dir === 'string' && existsSync(`${m.dir}/config.json`) ? m.dir : undefined;
  const pages: NeuronPage[] = [];
  for (const [hook, neurons] of pick.byHook) {
    pages.push(...(await neuronPages({ activations: store, hook, neurons, model, classify: classifyDir, why: pick.why, top: 12, quantiles: 5, perQuantile: 2 })));
  }
  if (opts.ablation && model && pages.length) {
    const { initBackend } = await import('../lab/core/backend.ts');
    const { loadModel, ablateNeurons } = await import('../activations/index.ts');
    await initBackend();
    const lm = await loadModel(model);
    try {
      const mode = opts.ablation.mode ?? 'zero';
      const base = new Map<string, number>();
      for (const p of pages) {
        const r = ablateNeurons(lm, opts.ablation.text, { hook: p.hook, neurons: [p.neuron], mode, base: base.get(p.hook) });
        base.set(p.hook, r.base_loss);
        p.ablation = { mode, base_loss: r.base_loss, ablated_loss: r.ablated_loss, delta_loss: r.delta_loss, delta_bits_per_byte: r.delta_bits_per_byte, text_bytes: r.bytes };
      }
    } finally {
      lm.dispose();
    }
  }
  return pages;
}

/**
 * Neurons against SAE latents, per feature, for the report: given a probe or classify run over a
 * neuron store and one over a latent store of the same hook and dataset (`lab sae encode` or
 * `lab harvest --sae`), each feature's 1-sparse F1 (and the unit it picked), k* and mono share on
 * both sides. A latent is a neuron of the latent store, so both sides are read the same way:
 *  - classify run: its classify.json (features: f1_k1, k1_neuron, k_star; neurons: labels);
 *  - probe run: the same per-feature summary (probes' summariseFeature, the classifier's defaults)
 *    from its sweep rows; no labels, so no mono share.
 * mono share of feature f on one side: of the units of the hook that carry f (label mono or poly with f
 * among their features, probes/neurons.ts), the fraction labelled mono (f alone). It says how much of
 * the feature sits in units of its own, the question an SAE is trained to answer with "all of it".
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readJson } from '../lab/core/index.ts';
import { LATENT_HOOK_SUFFIX, openActivationStore } from '../activations/index.ts';
import { DEFAULT_CLASSIFY_OPTIONS, readSweep, summariseFeature, type ClassifyResult, type SweepRow } from '../probes/index.ts';
import type { LoadedRun } from './load-run.ts';

export interface SideFeature {
  hook: string;
  f1_k1: number | null;
  k1_unit: number | null;
  k_star: number | null;
  best_f1: number | null;
  /** Units carrying the feature and how many of them are mono (classify runs only). */
  carrying?: number;
  mono?: number;
}

export interface CompareSide {
  /** The run's index among the report's runs (its page scope is `r<index>`). */
  index: number;
  run: LoadedRun;
  from: 'probe' | 'classify';
  store: string;
  dataset: string;
  /** The neuron hook this side is about (a latent side: its SAE's hook). */
  baseHook: string;
  latent: boolean;
  features: Map<string, SideFeature>;
}

export interface CompareRow {
  feature: string;
  neuron: SideFeature;
  latent: SideFeature;
}

export interface Comparison {
  neurons: CompareSide;
  latents: CompareSide;
  rows: CompareRow[];
}

/** A probe or classify run as one side (undefined when it is neither, partial, or its store is gone). */
export function compareSide(run: LoadedRun, index: number): CompareSide | undefined {
  if ((run.kind !== 'probe' && run.kind !== 'classify') || run.manifest.status !== 'complete') return undefined;
  const probeDir = run.kind === 'probe' ? run.dir : (run.manifest.config as { probes?: unknown }).probes;
  if (typeof probeDir !== 'string' || !existsSync(join(probeDir, 'sweep.json'))) return undefined;
  const sweep = readSweep(probeDir);
  const storeDir = resolve(String(sweep.config.activations));
  if (!existsSync(join(storeDir, 'store.json'))) return undefined;
  const m = openActivationStore(storeDir).manifest;
  const sae = (m.model as { sae?: { hook?: unknown } }).sae;
  const latentHook = m.hooks.find((h) => h.name.endsWith(LATENT_HOOK_SUFFIX))?.name;
  const latent = latentHook !== undefined && typeof sae?.hook === 'string';
  const features = new Map<string, SideFeature>();
  if (run.kind === 'classify') {
    const path = join(run.dir, 'classify.json');
    if (!existsSync(path)) return undefined;
    const res = readJson<ClassifyResult>(path);
    for (const f of res.features) {
      if (f.status !== 'ok') continue;
      const carry = res.neurons.filter((n) => n.hook === f.hook && n.label !== 'dead' && n.features.includes(f.feature));
      features.set(`${f.hook}\u0000${f.feature}`, {
        hook: f.hook, f1_k1: f.f1_k1, k1_unit: f.k1_neuron, k_star: f.k_star, best_f1: f.best_f1,
        carrying: carry.length, mono: carry.filter((n) => n.label === 'mono').length,
      });
    }
  } else {
    const groups = new Map<string, SweepRow[]>();
    for (const r of sweep.rows) {
      const key = `${r.hook}\u0000${r.feature}`;
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key)!.push(r);
    }
    for (const [key, rows] of groups) {
      const s = summariseFeature(rows, DEFAULT_CLASSIFY_OPTIONS);
      if (s.status === 'ok') features.set(key, { hook: s.hook, f1_k1: s.f1_k1, k1_unit: s.k1_neuron, k_star: s.k_star, best_f1: s.best_f1 });
    }
  }
  const baseHook = latent ? String(sae!.hook) : '';
  return { index, run, from: run.kind, store: storeDir, dataset: m.dataset.name, baseHook, latent, features };
}

/**
 * Every (neuron side, latent side) pair of the runs: the latent store's SAE reads a hook the neuron
 * store holds, over the same dataset. One side per store (a classify run wins over its own probe run).
 */
export function latentComparisons(runs: readonly LoadedRun[]): Comparison[] {
  const sides = runs.map((r, i) => compareSide(r, i)).filter((s): s is CompareSide => s !== undefined);
  const byStore = new Map<string, CompareSide>();
  for (const s of sides) {
    const cur = byStore.get(s.store);
    if (!cur || (cur.from === 'probe' && s.from === 'classify')) byStore.set(s.store, s);
  }
  const chosen = [...byStore.values()];
  const out: Comparison[] = [];
  for (const l of chosen.filter((s) => s.latent)) {
    for (const n of chosen.filter((s) => !s.latent && s.dataset === l.dataset)) {
      const rows: CompareRow[] = [];
      for (const [key, lf] of l.features) {
        const feature = key.split('\u0000')[1]!;
        const nf = n.features.get(`${l.baseHook}\u0000${feature}`);
        if (nf) rows.push({ feature, neuron: nf, latent: lf });
      }
      if (rows.length) out.push({ neurons: n, latents: l, rows: rows.sort((a, b) => a.feature.localeCompare(b.feature)) });
    }
  }
  return out;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const num = (v: number | null | undefined, d = 3) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '');
const share = (f: SideFeature) => (f.carrying === undefined ? '' : f.carrying === 0 ? 'none carry it' : `${(f.mono! / f.carrying).toFixed(2)} (${f.mono}/${f.carrying})`);
const mean = (xs: (number | null)[]) => {
  const v = xs.filter((x): x is number => typeof x === 'number');
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
};

/** The comparison as a report section; `href(side, hook, unit)` links a unit to its page when it has one. */
export function comparisonHtml(c: Comparison, id: string, href: (side: CompareSide, hook: string, unit: number) => string | undefined): string {
  const unit = (side: CompareSide, f: SideFeature) => {
    if (f.k1_unit === null) return '';
    const h = href(side, f.hook, f.k1_unit);
    return h ? `<a href="${esc(h)}">${f.k1_unit}</a>` : String(f.k1_unit);
  };
  const body = c.rows.map((r) => {
    const better = r.latent.f1_k1 !== null && r.neuron.f1_k1 !== null && r.latent.f1_k1 > r.neuron.f1_k1;
    return `<tr><td>${esc(r.feature)}</td><td class="num">${num(r.neuron.f1_k1)}</td><td class="num">${better ? '<b>' : ''}${num(r.latent.f1_k1)}${better ? '</b>' : ''}</td>` +
      `<td>${unit(c.neurons, r.neuron)}</td><td>${unit(c.latents, r.latent)}</td>` +
      `<td class="num">${r.neuron.k_star ?? ''}</td><td class="num">${r.latent.k_star ?? ''}</td>` +
      `<td class="num">${num(r.neuron.best_f1)}</td><td class="num">${num(r.latent.best_f1)}</td>` +
      `<td class="num">${share(r.neuron)}</td><td class="num">${share(r.latent)}</td></tr>`;
  });
  const wins = c.rows.filter((r) => r.latent.f1_k1 !== null && r.neuron.f1_k1 !== null && r.latent.f1_k1 > r.neuron.f1_k1).length;
  const mn = mean(c.rows.map((r) => r.neuron.f1_k1)), ml = mean(c.rows.map((r) => r.latent.f1_k1));
  const kn = mean(c.rows.map((r) => r.neuron.k_star)), kl = mean(c.rows.map((r) => r.latent.k_star));
  const foot = `<tr><th>mean over ${c.rows.length}</th><th class="num">${num(mn)}</th><th class="num">${num(ml)}</th><th colspan="2">latent better on ${wins}/${c.rows.length}</th>` +
    `<th class="num">${num(kn, 1)}</th><th class="num">${num(kl, 1)}</th><th colspan="4"></th></tr>`;
  const lh = c.rows[0]?.latent.hook ?? '';
  return [
    `<section class="run" id="${esc(id)}"><h2>Neurons against SAE latents: ${esc(c.neurons.run.name)} vs ${esc(c.latents.run.name)}<span class="kind">compare</span></h2>`,
    `<p class="note">Per feature of ${esc(c.latents.dataset)}: neurons of ${esc(c.latents.baseHook)} (${esc(c.neurons.run.name)}, a ${c.neurons.from} run) against the latents ${esc(lh)} (${esc(c.latents.run.name)}, a ${c.latents.from} run), ` +
      'the SAEBench sparse-probing comparison. f1_k1: test F1 of the 1-sparse probe, on the unit it picked; k*: the smallest k reaching 95% of the best F1; ' +
      'mono share: of the units carrying the feature (mono or poly with it among their features), the fraction that carry it alone (classify runs only). Unit numbers link to their pages.</p>',
    '<div class="scroll"><table class="compare"><tr><th>feature</th><th>f1_k1 neuron</th><th>f1_k1 latent</th><th>neuron</th><th>latent</th><th>k* neuron</th><th>k* latent</th><th>best_f1 neuron</th><th>best_f1 latent</th><th>mono share neurons</th><th>mono share latents</th></tr>',
    ...body, foot, '</table></div></section>',
  ].join('\n');
}

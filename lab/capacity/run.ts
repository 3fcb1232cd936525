/**
 * A capacity run directory (kind 'capacity'): capacity.csv (one row per feature and hook), toy.csv (one
 * row per toy instance and feature, when a toy run is given), summary.csv (Spearman rho of importance
 * with capacity and with mono_share per hook and pooled, and of the toy's importance with C_i per
 * instance and pooled, each with its 95% bootstrap interval), capacity.json (the evaluation text's size
 * and positives, base losses, skipped features). Each measured hook is kept in units/ as it finishes, so
 * a killed run resumes from the next hook; a rerun with another config is refused unless overwrite.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as aq from 'arquero';
import { RunDir, readJson } from '../core/index.ts';
import type { LanguageModel } from '../../activations/index.ts';
import { measureHook, planCapacity, type CapacityInputs, type CapacityRow, type HookMeasurement } from './measure.ts';
import { bootstrapSpearman, BOOTSTRAP_REPS, type RankCorrelation } from './stats.ts';
import { toyCapacityRows, type ToyCapacityRow } from './toy.ts';

export const CAPACITY_COLUMNS = ['feature', 'hook', 'frequency', 'importance', 'importance_k1', 'importance_kstar', 'capacity', 'dedicated', 'k_star', 'mono_share'] as const;
export const SUMMARY_COLUMNS = ['source', 'scope', 'y', 'x', 'n', 'rho', 'lo', 'hi', 'reps'] as const;
/** Default bytes of held-out text each ablation is measured on. */
export const EVAL_BYTES = 4000;

export interface CapacityOptions extends CapacityInputs {
  out: string;
  seed: number;
  reps?: number;
  /** A toy run (kind 'toy') to put beside the language model. */
  toyDir?: string;
  command?: string;
  overwrite?: boolean;
  log?: (line: string) => void;
}

export interface SummaryRow extends RankCorrelation {
  source: 'lm' | 'toy';
  scope: string;
  y: string;
  x: string;
}

export interface CapacityResult {
  out: string;
  rows: CapacityRow[];
  toy: ToyCapacityRow[];
  summary: SummaryRow[];
  hooks: HookMeasurement[];
  eval: { bytes: number; sequences: number; rows: number; added_for_features: string[]; positives: Record<string, number> };
  resumed_hooks: number;
}

function unitName(i: number): string {
  return `units/hook-${String(i).padStart(3, '0')}.json`;
}

/** Measures, summarises and writes the run (see the header). The caller disposes the model. */
export function runCapacity(model: LanguageModel, opts: CapacityOptions): CapacityResult {
  const log = opts.log ?? (() => {});
  const plan = planCapacity(model, opts);
  const reps = opts.reps ?? BOOTSTRAP_REPS;
  const config = {
    model: resolve(model.source.dir), model_checksum: model.source.checksum, probes: resolve(opts.probeDir), classify: resolve(opts.classifyDir),
    hooks: plan.hooks, eval_bytes: opts.evalBytes, eval_strict: Boolean(opts.evalStrict), window: opts.window ?? null,
    reps, toy: opts.toyDir ? resolve(opts.toyDir) : null, ablation: 'mean',
  };
  const run = RunDir.begin(opts.out, { kind: 'capacity', seed: opts.seed, config, command: opts.command, overwrite: opts.overwrite });
  const hooks: HookMeasurement[] = [];
  let resumed = 0;
  plan.hooks.forEach((hook, i) => {
    const path = join(opts.out, unitName(i));
    if (existsSync(path)) {
      const u = readJson<HookMeasurement>(path);
      if (u?.hook === hook && Array.isArray(u.rows)) {
        hooks.push(u);
        run.writeJson(unitName(i), u);
        resumed++;
        log(`capacity: ${hook} resumed from ${unitName(i)}`);
        return;
      }
    }
    const t0 = performance.now();
    const m = measureHook(model, plan, hook, { window: opts.window });
    hooks.push(m);
    run.writeJson(unitName(i), m);
    log(`capacity: ${hook}: ${m.rows.length} features in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  });
  const rows = hooks.flatMap((h) => h.rows);
  const toy = opts.toyDir ? toyCapacityRows(opts.toyDir) : [];
  const summary = summarise(rows, toy, opts.seed, reps);
  run.write('capacity.csv', rows.length ? aq.toCSV(aq.from(rows).select(...CAPACITY_COLUMNS)) : CAPACITY_COLUMNS.join(',') + '\n');
  if (opts.toyDir) run.write('toy.csv', aq.toCSV(aq.from(toy)));
  run.write('summary.csv', aq.toCSV(aq.from(summary.map((s) => pick(s)))));
  const { text: _text, ...ev } = plan.evalText;
  void _text;
  run.writeJson('capacity.json', { eval: ev, hooks: hooks.map((h) => ({ hook: h.hook, base_loss: h.base_loss, features: h.rows.length, skipped: h.skipped })), summary });
  run.finish();
  return { out: opts.out, rows, toy, summary, hooks, eval: ev, resumed_hooks: resumed };
}

function pick(s: SummaryRow): Record<string, unknown> {
  return Object.fromEntries(SUMMARY_COLUMNS.map((c) => [c, Number.isNaN(s[c]) ? null : s[c]]));
}

/** Spearman rho with its bootstrap interval per hook and pooled (LM), per instance and pooled (toy). */
export function summarise(rows: CapacityRow[], toy: ToyCapacityRow[], seed: number, reps: number): SummaryRow[] {
  const out: SummaryRow[] = [];
  // No LM rows (every feature skipped, or a toy-only summary): no LM correlations rather than NaN rows.
  const scopes = rows.length ? [...new Set(rows.map((r) => r.hook)), 'pooled'] : [];
  scopes.forEach((scope, si) => {
    const part = scope === 'pooled' ? rows : rows.filter((r) => r.hook === scope);
    for (const [xi, x] of (['capacity', 'mono_share'] as const).entries()) {
      const c = bootstrapSpearman(part.map((r) => r.importance), part.map((r) => r[x]), { seed: seed + 1000 * si + xi, reps });
      out.push({ source: 'lm', scope, y: 'importance', x, ...c });
    }
  });
  if (toy.length > 0) {
    const insts = [...new Set(toy.map((r) => r.instance))];
    [...insts.map((i) => `instance ${i}`), 'pooled'].forEach((scope, si) => {
      const part = scope === 'pooled' ? toy : toy.filter((r) => `instance ${r.instance}` === scope);
      const c = bootstrapSpearman(part.map((r) => r.importance), part.map((r) => r.capacity), { seed: seed + 7919 + si, reps });
      out.push({ source: 'toy', scope, y: 'importance', x: 'capacity', ...c });
    });
  }
  return out;
}

/** The correlation lines `lab capacity` and `lab demo` print. */
export function formatCorrelations(summary: SummaryRow[], indent = ''): string[] {
  const f = (v: number) => (Number.isFinite(v) ? (v >= 0 ? ' ' : '') + v.toFixed(2) : '  n/a');
  return summary.map((s) => `${indent}${s.source.padEnd(3)} ${s.scope.padEnd(26)} rho(importance, ${s.x.padEnd(10)}) ${f(s.rho)} [${f(s.lo)}, ${f(s.hi)}] n=${s.n}`);
}

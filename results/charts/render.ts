/**
 * Vega-Lite specs rendered to SVG in Node: compile with vega-lite, run a headless vega View (renderer
 * 'none') and serialise with toSVG. No browser, no canvas, and no network: data is always inline and the
 * loader refuses every URL, so a spec that tried to fetch would fail here rather than in a user's report.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { LabError } from '../../lab/core/index.ts';

export type ChartSpec = TopLevelSpec;

/** Shared look: system fonts only (no web fonts), white background, compact axes. */
export const CHART_CONFIG = {
  font: 'DejaVu Sans, Helvetica, Arial, sans-serif',
  background: 'white',
  view: { stroke: '#ccc' },
  axis: { labelFontSize: 10, titleFontSize: 11, grid: true, gridColor: '#eee' },
  legend: { labelFontSize: 10, titleFontSize: 11 },
  title: { fontSize: 13, anchor: 'start' },
} as const;

const noNetwork = {
  async load(uri: string): Promise<string> {
    throw new LabError(`chart tried to load ${uri}: charts carry their data inline and never fetch`);
  },
  async sanitize(uri: string): Promise<{ href: string }> {
    throw new LabError(`chart tried to load ${uri}: charts carry their data inline and never fetch`);
  },
  async http(uri: string): Promise<string> {
    throw new LabError(`chart tried to fetch ${uri}`);
  },
  async file(path: string): Promise<string> {
    throw new LabError(`chart tried to read ${path}`);
  },
};

/** Compiles a Vega-Lite spec and renders it to an SVG string. */
export async function renderSvg(spec: ChartSpec): Promise<string> {
  // One level deeper than a spread, so a chart can turn off, say, axis grids without losing the label sizes.
  const own = ((spec as { config?: Record<string, unknown> }).config ?? {}) as Record<string, unknown>;
  const config: Record<string, unknown> = { ...CHART_CONFIG };
  for (const [k, v] of Object.entries(own)) {
    const base = config[k];
    config[k] = base && typeof base === 'object' && v && typeof v === 'object' ? { ...base, ...v } : v;
  }
  const withConfig = { ...spec, config } as TopLevelSpec;
  const vgSpec = compile(withConfig).spec;
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none', loader: noNetwork as unknown as vega.Loader });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rows of an arquero-like table as plain objects, with non-finite numbers dropped to null (vega skips them). */
export function rowsOf(table: { objects(): object[] }): Record<string, unknown>[] {
  return table.objects().map((row) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) out[k] = typeof v === 'number' && !Number.isFinite(v) ? null : v;
    return out;
  });
}

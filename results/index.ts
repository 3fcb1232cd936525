/**
 * results/: run directories as arquero tables, charts as Vega-Lite specs rendered to SVG, and the
 * self-contained HTML dashboard. The public face of the folder; notebooks and the CLI import from here.
 */
// Manifests are lab/core/run-dir.ts's; re-exported so a notebook needs only this module.
export { RunDir, readManifest, writeFileAtomic } from '../lab/core/index.ts';
export type { Manifest } from '../lab/core/index.ts';
export { readTable, parseCsv, writeTable, writeRunTable, readRunTable, tableToCsv, tableToArrow } from './table-io.ts';
export type { ColumnTable } from './table-io.ts';
export { loadRun, stackTables, RUN_KINDS } from './load-run.ts';
export type { LoadedRun } from './load-run.ts';
export { toyTables, importanceOf } from './toy-tables.ts';
export type { ToyInstance, ToyTables } from './toy-tables.ts';
export { renderSvg, rowsOf, CHART_CONFIG } from './charts/render.ts';
export type { ChartSpec } from './charts/render.ts';
export {
  toyGeometryChart, normInterferenceChart, dimensionalityChart, capacityChart, totalCapacityChart, STICKY_FRACTIONS,
} from './charts/toy.ts';
export { phaseChart, phaseColumns } from './charts/phase.ts';
export { f1VsKChart, selectivityHeatmap, labelCountsChart, confusionChart, capacityAgreementChart } from './charts/probes.ts';
export { knockoutChart, enrichmentChart, extractionChart } from './charts/recall.ts';
export { chartsFor, selectivityLong, MAX_HEATMAP_LAYERS } from './charts/for-run.ts';
export type { NamedChart } from './charts/for-run.ts';
export { buildReport, writeReport, escapeHtml, prefixSvgIds, defaultReportName } from './report.ts';
export type { ReportOptions } from './report.ts';
export { parseXml, countMarks, markItems } from './svg-check.ts';
export { neuronPageHtml, neuronPagesHtml, neuronIndexHtml, neuronPageId, unitName, linkHeatmapSvg, classifyRunPages, type ClassifyPagesOptions, type PageLinks } from './neuron-pages.ts';
export { latentComparisons, comparisonHtml, compareSide, type Comparison, type CompareRow, type CompareSide, type SideFeature } from './latent-compare.ts';

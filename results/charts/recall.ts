/**
 * Charts of a `lab recall` run (Geva et al. 2023's three figures): attention-knockout curves per block
 * set against the layer, the attributes rate per position against the layer (raw projection solid, the
 * final-layer-norm lens dashed), and the attribute extraction rate per sublayer against the layer.
 */
import type { ColumnTable } from 'arquero';
import { rowsOf, type ChartSpec } from './render.ts';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

function lines(name: string, values: Record<string, unknown>[], y: string, yTitle: string, color: string, extra: Record<string, unknown> = {}): ChartSpec {
  const encoding = {
    x: { field: 'layer', type: 'quantitative', axis: { tickMinStep: 1 }, title: 'layer (0-based)' },
    y: { field: y, type: 'quantitative', title: yTitle },
    color: { field: color, type: 'nominal' },
    tooltip: [{ field: 'layer' }, { field: color }, ...Object.keys(extra).map((f) => ({ field: f })), { field: y, format: '.3f' }],
    ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, v])),
  };
  return {
    $schema: SCHEMA,
    data: { values },
    width: 320,
    height: 200,
    layer: [
      { name: `${name}_lines`, mark: { type: 'line', strokeWidth: 1.5 }, encoding },
      { name: `${name}_points`, mark: { type: 'point', filled: true, size: 20 }, encoding },
    ],
  } as ChartSpec;
}

/** % change of the target's probability when T cannot attend to each block set, per layer. */
export function knockoutChart(knockout: ColumnTable): ChartSpec {
  const spec = lines('knockout', rowsOf(knockout), 'delta_p_pct', '% change in p(target)', 'block');
  return { ...spec, title: { text: 'Attention knockout: T blocked from each position set', subtitle: 'window of K layers centred on the layer' } } as ChartSpec;
}

/** Attributes rate per position and layer; the lens (raw W_U or final LN then W_U) as the dash style. */
export function enrichmentChart(enrichment: ColumnTable): ChartSpec {
  const spec = lines('enrichment', rowsOf(enrichment), 'attributes_rate', 'attributes rate (% of top-m)', 'position', { strokeDash: { field: 'lens', type: 'nominal' } });
  return { ...spec, title: { text: 'Subject enrichment: attributes in the residual stream', subtitle: 'after each block, projected to the vocabulary' } } as ChartSpec;
}

/** Share of queries whose target is the top-1 of each sublayer's output at T. */
export function extractionChart(extraction: ColumnTable): ChartSpec {
  const spec = lines('extraction', rowsOf(extraction), 'rate', 'attribute extraction rate', 'sublayer');
  return { ...spec, title: { text: 'Attribute extraction at the last position', subtitle: 'target is the top-1 of the sublayer output' } } as ChartSpec;
}

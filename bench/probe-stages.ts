/**
 * Per-stage timings of the probe engine on the probe bench's synthetic data (not a peer comparison):
 * mean_dif ranking per feature, each k's fit alone (cold), and the whole warm-started k list per feature.
 *
 *   node --import tsx bench/probe-stages.ts [FEATURES=4] [TOL]
 */
import { makeData } from './probe.bench.ts';
import { fitProbes, rankNeurons, STANDARD_KS } from '../probes/engine.ts';
const nF = Number(process.argv[2] ?? 4);
const tol = process.argv[3] ? Number(process.argv[3]) : undefined;
const d = makeData(20000, 2048, nF, 0);
const nTrain = d.nTrain;
const train = { data: d.X.data.subarray(0, nTrain * 2048), nRows: nTrain, nCols: 2048 };
const ks = [...STANDARD_KS];
const perK = new Float64Array(ks.length);
let tRank = 0;
const t0 = performance.now();
for (let f = 0; f < nF; f++) {
  const ytr = d.ys[f]!.subarray(0, nTrain);
  let t = performance.now();
  const order = rankNeurons('mean_dif', train, ytr).order;
  tRank += performance.now() - t;
  const supports = ks.map((k) => Array.from(order.subarray(0, k)));
  // time each k alone but warm-started like fitProbes does: fit the nested list progressively
  for (let q = 0; q < ks.length; q++) {
    t = performance.now();
    fitProbes(train, ytr, supports.slice(q, q + 1), { tol });
    perK[q] += performance.now() - t;
  }
}
let tAll = performance.now();
for (let f = 0; f < nF; f++) {
  const ytr = d.ys[f]!.subarray(0, nTrain);
  const order = rankNeurons('mean_dif', train, ytr).order;
  fitProbes(train, ytr, ks.map((k) => Array.from(order.subarray(0, k))), { tol });
}
console.log('rank ms/feature', (tRank / nF).toFixed(1));
console.log('cold fit ms/feature per k', ks.map((k, q) => `${k}:${(perK[q]! / nF).toFixed(0)}`).join(' '));
console.log('warm sweep ms/feature', ((performance.now() - tAll) / nF).toFixed(0));

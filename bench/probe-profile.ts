/**
 * CPU time per stage of the probe bench's sweep (process.cpuUsage, so a loaded machine still gives
 * usable figures): ranking, the gather, each k's warm-started fit (iterations, Hessians), test scores,
 * metrics. Data cached in /tmp between runs. CM=0 leaves out the column-major copy the sweep makes.
 *
 *   node --import tsx bench/probe-profile.ts [FEATURES=4] [FIRST=0]
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { makeData } from './probe.bench.ts';
import { computeMetrics, predictScoresMany, rankNeurons, STANDARD_KS, classWeights } from '../probes/engine.ts';
import { gatherColumns, subColumns } from '../probes/fit/gather.ts';
import { fitGathered, resolveFitOptions } from '../probes/fit/fit-probe.ts';
import type { ProbeFit } from '../probes/types.ts';
import { columnMajorHook } from '../probes/unit.ts';

const nF = Number(process.argv[2] ?? 4);
const first = Number(process.argv[3] ?? 0);
const cache = '/tmp/hC16/probe-data.bin';
const nRows = 20000, nCols = 2048, nAll = 20;
let X: Float32Array;
let ys: Uint8Array[];
if (existsSync(cache)) {
  const b = readFileSync(cache);
  X = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + nRows * nCols * 4));
  ys = Array.from({ length: nAll }, (_, f) => new Uint8Array(b.buffer.slice(b.byteOffset + nRows * nCols * 4 + f * nRows, b.byteOffset + nRows * nCols * 4 + (f + 1) * nRows)));
} else {
  const d = makeData(nRows, nCols, nAll, 0);
  X = new Float32Array(d.X.data);
  ys = d.ys;
  const out = new Uint8Array(nRows * nCols * 4 + nAll * nRows);
  out.set(new Uint8Array(X.buffer));
  ys.forEach((y, f) => out.set(y, nRows * nCols * 4 + f * nRows));
  writeFileSync(cache, out);
}
const nTrain = Math.round(0.7 * nRows);
const train = { data: X.subarray(0, nTrain * nCols), nRows: nTrain, nCols };
const test = { data: X.subarray(nTrain * nCols), nRows: nRows - nTrain, nCols };
const ks = [...STANDARD_KS];
const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
const perK = new Float64Array(ks.length);
const its = new Float64Array(ks.length);
const hs = new Float64Array(ks.length);
let tRank = 0, tGather = 0, tPred = 0, tMet = 0;
const o = resolveFitOptions({});
const c0 = cpu();
// As the sweep does per hook (CM=0 to leave it out): a column-major copy of the train and test rows.
let tCm = cpu();
if (process.env.CM !== '0') columnMajorHook({ hook: 'bench', Xtr: train, Xte: test }, nF);
tCm = cpu() - tCm;
for (let f = first; f < first + nF; f++) {
  const ytr = ys[f]!.subarray(0, nTrain);
  const yte = ys[f]!.subarray(nTrain);
  let t = cpu();
  const order = rankNeurons('mean_dif', train, ytr).order;
  tRank += cpu() - t;
  t = cpu();
  const union = Array.from(order.subarray(0, 256)).sort((a, b) => a - b);
  const all = gatherColumns(train, union);
  const at = new Map(union.map((j, p) => [j, p] as const));
  const w = classWeights(ytr, 'balanced');
  tGather += cpu() - t;
  const fits: ProbeFit[] = [];
  let prev: ProbeFit | undefined;
  for (let q = 0; q < ks.length; q++) {
    const s = Array.from(order.subarray(0, ks[q]!)).sort((a, b) => a - b);
    t = cpu();
    const cols = subColumns(all, s.map((j) => at.get(j)!));
    const fit = fitGathered(cols, ytr, w, o, prev);
    perK[q] += cpu() - t;
    its[q] += fit.iterations;
    fits.push(fit);
    prev = fit;
  }
  t = cpu();
  const sc = predictScoresMany(test, fits);
  tPred += cpu() - t;
  t = cpu();
  for (const s of sc) computeMetrics(yte, s);
  tMet += cpu() - t;
}
const total = cpu() - c0;
const fitSum = perK.reduce((a, b) => a + b, 0);
console.log(`CPU ms per feature (${nF} features from ${first}): total ${(total / nF).toFixed(0)}, column-major copy ${(tCm / nF).toFixed(0)}, rank ${(tRank / nF).toFixed(0)}, gather ${(tGather / nF).toFixed(0)}, fits ${(fitSum / nF).toFixed(0)}, predict ${(tPred / nF).toFixed(0)}, metrics ${(tMet / nF).toFixed(0)}`);
console.log('fit CPU ms (iterations) per k: ' + ks.map((k, q) => `${k}:${(perK[q]! / nF).toFixed(0)}(${(its[q]! / nF).toFixed(1)})`).join(' '));
import { cgStats } from '../probes/fit/newton-cg.ts';
console.log(`CG: ${cgStats.steps} Newton steps, ${cgStats.products} Hessian-vector products`);

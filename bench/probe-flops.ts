/**
 * Achieved GFLOP/s of the probe sweep on one thread (issue 16's physical-limit comparison), as a lower
 * bound: the bench's synthetic data (probe.bench.ts makeData, same defaults), the same in-process sweep
 * (mean_dif ranking, one Newton fit per k, test predictions), timed, with the flops counted from each
 * fit's iteration count and this model of probes/fit/newton.ts, n train rows, k columns:
 *   ranking  n d per feature (one pass of class sums);
 *   per iteration  6 n k (the gradient Z^T r, and the fused step's Z s and next gradient);
 *   Hessians  n k (k + 1) each (the symmetric half of Z^T D Z, a multiply-add per entry): one per
 *     iteration for k <= 16 (plain Newton), at least one per fit above (BFGS in between), counted as one,
 *     which is why this is a lower bound;
 *   predictions  2 n_test k per fit.
 *   node --import tsx bench/probe-flops.ts [--rows 20000] [--cols 2048] [--features 2]
 */
import { parseFlags } from '../lab/commands/args.ts';
import { fitProbes, predictScoresMany, rankNeurons, STANDARD_KS } from '../probes/engine.ts';
import { makeData } from './probe.bench.ts';

const { flags } = parseFlags(process.argv.slice(2), {
  rows: { type: 'int', help: 'rows (70% train)', default: 20000, min: 100 },
  cols: { type: 'int', help: 'neurons', default: 2048, min: 1 },
  features: { type: 'int', help: 'features swept', default: 2, min: 1 },
});
const d = makeData(flags.rows as number, flags.cols as number, flags.features as number, 1);
const n = d.nTrain;
const nTest = d.X.nRows - n;
const dCols = d.X.nCols;
const ks = [...STANDARD_KS].filter((k) => k <= dCols);
const train = { data: d.X.data.subarray(0, n * dCols), nRows: n, nCols: dCols };
const test = { data: d.X.data.subarray(n * dCols), nRows: nTest, nCols: dCols };
let flops = 0;
let iters = 0;
const t0 = performance.now();
for (let f = 0; f < d.ys.length; f++) {
  const ytr = d.ys[f]!.subarray(0, n);
  const order = rankNeurons('mean_dif', train, ytr).order;
  flops += n * dCols;
  const supports = ks.map((k) => Array.from(order.subarray(0, k)).sort((a, b) => a - b));
  const fits = fitProbes(train, ytr, supports, { fitter: 'newton' });
  predictScoresMany(test, fits);
  fits.forEach((fit, q) => {
    const k = ks[q]!;
    iters += fit.iterations;
    const hessians = k <= 16 ? fit.iterations : 1;
    flops += fit.iterations * 6 * n * k + hessians * n * k * (k + 1) + 2 * nTest * k;
  });
}
const s = (performance.now() - t0) / 1000;
process.stdout.write(JSON.stringify({ rows: d.X.nRows, cols: dCols, features: d.ys.length, ks, seconds: s, newton_iterations: iters, gflop: flops / 1e9, gflops_lower_bound: flops / 1e9 / s }) + '\n');

/**
 * The issue's "must show" results, trained at full length (minutes, so not a unit test):
 *   npx tsx bench/toy-must-show.ts [--steps 10000] [--big-features 200 --big-hidden 20] [--only small|big]
 * Prints each figure with its check and exits non-zero if a check fails.
 */
import { parseFlags } from '../lab/commands/args.ts';
import { parseFeatureProb } from '../activations/toy/config.ts';
import { featureMetrics } from '../activations/toy/metrics.ts';
import { trainToy, type ToyInstance } from '../activations/toy/train.ts';

const { flags } = parseFlags(process.argv.slice(2), {
  steps: { type: 'int', help: 'training steps', default: 10000, min: 1 },
  'big-features': { type: 'int', help: 'n of the equal-importance run', default: 200, min: 2 },
  'big-hidden': { type: 'int', help: 'm of the equal-importance run', default: 20, min: 1 },
  'big-instances': { type: 'int', help: 'feature probabilities in the equal-importance run', default: 6, min: 2 },
  'big-probs': { type: 'string', help: 'feature probabilities a:b of the equal-importance run', default: '0.6:0.15' },
  only: { type: 'string', help: 'run only one part', choices: ['small', 'big'] },
  seed: { type: 'int', help: 'seed', default: 0, min: 0 },
});
const steps = flags.steps as number;
const seed = flags.seed as number;
let failed = 0;

function check(ok: boolean, what: string): void {
  if (!ok) failed++;
  process.stdout.write(`  [${ok ? 'ok' : 'FAIL'}] ${what}\n`);
}

const f3 = (x: number) => x.toFixed(3);
const represented = (inst: ToyInstance) => inst.norms.map((x, i) => [x, i] as const).filter(([x]) => x >= 0.5).map(([, i]) => i);

function cosines(inst: ToyInstance, ids: number[]): number[] {
  const out: number[] = [];
  for (let a = 0; a < ids.length; a++) {
    for (let b = a + 1; b < ids.length; b++) {
      const u = inst.W[ids[a]!]!;
      const v = inst.W[ids[b]!]!;
      const dot = u.reduce((s, x, k) => s + x * v[k]!, 0);
      out.push(dot / (inst.norms[ids[a]!]! * inst.norms[ids[b]!]!));
    }
  }
  return out;
}

async function small(): Promise<void> {
  process.stdout.write(`\n1. relu-out n=5 m=2, importance 0.9^i, feature prob 1 and 0.05, ${steps} steps, seed ${seed}\n`);
  const r = await trainToy({ model: 'relu-out', features: 5, hidden: 2, instances: 2, feature_prob: [1, 0.05], importance_decay: 0.9, steps, seed, engine: 'js' });
  const [dense, sparse] = r.instances as [ToyInstance, ToyInstance];
  for (const inst of r.instances) {
    process.stdout.write(
      `  p=${inst.feature_prob}: norms ${inst.norms.map(f3).join(' ')} | D ${inst.dimensionality.map(f3).join(' ')} | ` +
        `C ${inst.capacity.map(f3).join(' ')} | sum C ${f3(inst.total_capacity)} | shape ${inst.shape}\n`,
    );
  }
  const dRep = represented(dense);
  const cos = cosines(dense, dRep);
  check(dRep.length === 2, `dense keeps exactly 2 features (${dRep.join(', ')})`);
  check(cos.every((c) => Math.abs(c) < 0.05), `dense kept features are orthogonal (cos ${cos.map(f3).join(', ')})`);
  const sRep = represented(sparse);
  const sD = sRep.map((i) => sparse.dimensionality[i]!);
  check(sRep.length >= 4, `p=0.05 keeps >= 4 features (${sRep.length}: ${sRep.join(', ')})`);
  check(sD.every((d) => Math.abs(d - 0.4) < 0.05), `p=0.05 represented D_i near 2/5 (${sD.map(f3).join(', ')})`);
  for (const inst of r.instances) check(inst.total_capacity <= 2 + 1e-9, `sum C_i = ${f3(inst.total_capacity)} <= m = 2 at p=${inst.feature_prob}`);
  check(dense.capacity[0]! > 0.95 && dense.capacity[1]! > 0.95, `dense, decaying importance: top features C ~ 1 (${f3(dense.capacity[0]!)}, ${f3(dense.capacity[1]!)})`);
  check(dense.capacity.slice(2).every((c) => c < 0.05), `dense, decaying importance: tail C ~ 0 (${dense.capacity.slice(2).map(f3).join(', ')})`);
}

async function big(): Promise<void> {
  const n = flags['big-features'] as number;
  const m = flags['big-hidden'] as number;
  const I = flags['big-instances'] as number;
  const probs = parseFeatureProb(flags['big-probs'] as string);
  process.stdout.write(`\n2. relu-out n=${n} m=${m}, equal importance, feature prob ${flags['big-probs']} over ${I} instances, ${steps} steps\n`);
  const t0 = performance.now();
  const r = await trainToy(
    { model: 'relu-out', features: n, hidden: m, instances: I, feature_prob: probs, importance_decay: 1, steps, seed, engine: 'js' },
    { onProgress: (s, total) => process.stderr.write(s % 1000 === 0 || s === total ? `  step ${s}/${total}\r` : '') },
  );
  process.stderr.write('\n');
  process.stdout.write(`  trained in ${((performance.now() - t0) / 1000).toFixed(0)} s\n  feature_prob  1/(1-S)  dims_per_feature  represented  sum_C\n`);
  for (const inst of r.instances) {
    const met = featureMetrics(inst.W);
    process.stdout.write(
      `  ${inst.feature_prob.toPrecision(3).padEnd(12)}  ${(1 / inst.feature_prob).toPrecision(3).padEnd(7)}  ${f3(inst.dims_per_feature).padEnd(16)}  ` +
        `${String(represented(inst).length).padEnd(11)}  ${f3(met.total_capacity)}\n`,
    );
    check(inst.total_capacity <= m + 1e-6, `sum C_i <= m at p=${inst.feature_prob.toPrecision(3)}`);
  }
  const half = r.instances.filter((x) => Math.abs(x.dims_per_feature - 0.5) <= 0.05);
  check(half.length >= 2, `dims per feature within 0.05 of 1/2 at ${half.length} feature probabilities (${half.map((x) => x.feature_prob.toPrecision(2)).join(', ')})`);
}

if (flags.only !== 'big') await small();
if (flags.only !== 'small') await big();
process.stdout.write(`\n${failed === 0 ? 'all checks passed' : `${failed} check(s) failed`}\n`);
process.exitCode = failed === 0 ? 0 : 1;

/**
 * The probe pipeline's ground-truth check on toy models at full size (minutes, so not a unit test):
 *   node --import tsx bench/probe-validate.ts [--large] [--seed S] [--features N] [--hidden M] [--out DIR]
 * Trains relu-hidden toys, harvests, probes and classifies them (probes/validate.ts validateOnToy), and
 * prints the agreement of the activation-based labels with the weight-based truth as JSON.
 */
import { join, resolve } from 'node:path';
import { LARGE, SMALL, validateOnToy, type ValidationSpec } from '../probes/validate.ts';

async function main(argv: string[]): Promise<void> {
  const large = argv.includes('--large');
  const at = (flag: string) => (argv.indexOf(flag) >= 0 ? argv[argv.indexOf(flag) + 1] : undefined);
  const base = large ? LARGE : SMALL;
  const num = (flag: string, def: number) => (at(flag) !== undefined ? Number(at(flag)) : def);
  const spec: ValidationSpec = {
    ...base,
    seed: num('--seed', base.seed), features: num('--features', base.features), hidden: num('--hidden', base.hidden),
    instances: num('--instances', base.instances), steps: num('--steps', base.steps), samples: num('--samples', base.samples),
    weightDecay: num('--weight-decay', base.weightDecay), importanceDecay: num('--importance-decay', base.importanceDecay),
    rotations: num('--rotations', base.rotations),
  };
  const out = resolve(at('--out') ?? join('runs', `validate-${large ? 'large' : 'small'}-${spec.seed}`));
  const r = await validateOnToy(spec, out, { silent: false });
  const { result, ...report } = r;
  void result;
  process.stdout.write(JSON.stringify({ out, ...report }, null, 2) + '\n');
}

await main(process.argv.slice(2));

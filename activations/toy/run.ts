/**
 * Toy run directories (kind 'toy'): manifest.json, instances.json (the --json "instances" array),
 * instances.csv (one row per instance x feature) and, for relu-hidden / abs, neurons.csv. Plus the
 * read side used by other rooms: loadToyRun, sampleToyBatch, toyHidden.
 */
import { join } from 'node:path';
import { InputError } from '../../lab/core/index.ts';
import { readJson, readManifest, RunDir } from '../../lab/core/index.ts';
import type { Rng } from '../../lab/core/index.ts';
import { featureProbs, hasNeurons, importances, resolveConfig, type ToyConfig } from './config.ts';
import { allocBatch, densify, sampleInto } from './data.ts';
import { forward } from './kernels.ts';
import { flatFromNamed } from './layout.ts';
import { specOf, type ToyInstance, type ToyResult } from './train.ts';

export interface ToyRun {
  dir: string;
  config: ToyConfig;
  instances: ToyInstance[];
}

/** The object `lab toy train --json` prints. */
export function toyJson(r: ToyResult): { config: ToyConfig; instances: ToyInstance[] } {
  return { config: r.config, instances: r.instances };
}

export function instancesCsv(r: { config: ToyConfig; instances: ToyInstance[] }): string {
  const imp = importances(r.config);
  const lines = ['instance,feature_prob,feature,importance,norm,interference,dimensionality,capacity'];
  for (const inst of r.instances) {
    for (let i = 0; i < r.config.features; i++) {
      lines.push(
        [inst.instance, inst.feature_prob, i, imp[i], inst.norms[i], inst.interference[i], inst.dimensionality[i], inst.capacity[i]]
          .map((v) => num(v as number))
          .join(','),
      );
    }
  }
  return lines.join('\n') + '\n';
}

export function neuronsCsv(r: { instances: ToyInstance[] }): string {
  const lines = ['instance,neuron,label,features,max_share'];
  for (const inst of r.instances) {
    inst.neurons?.forEach((nr, k) => lines.push(`${inst.instance},${k},${nr.label},"${nr.features.join(' ')}",${num(nr.max_share)}`));
  }
  return lines.join('\n') + '\n';
}

function num(v: number): string {
  return Number.isInteger(v) ? String(v) : Number.isFinite(v) ? String(+v.toPrecision(7)) : '';
}

/** Writes a complete run directory; files appear one by one, each atomically, the manifest last. */
export function writeToyRun(dir: string, r: ToyResult, command?: string, opts: { overwrite?: boolean } = {}): void {
  const run = RunDir.begin(dir, { kind: 'toy', seed: r.config.seed, config: { ...r.config }, backend: r.backend ?? 'js', command, overwrite: opts.overwrite });
  run.writeJson('instances.json', r.instances);
  run.write('instances.csv', instancesCsv(r));
  if (hasNeurons(r.config.model)) run.write('neurons.csv', neuronsCsv(r));
  run.timing('train_s', r.train_seconds);
  run.finish({ engine: r.engine });
}

export function loadToyRun(dir: string): ToyRun {
  const manifest = readManifest(dir, { kind: 'toy' });
  let config: ToyConfig;
  try {
    config = resolveConfig(manifest.config as unknown as ToyConfig);
  } catch (err) {
    throw new InputError(`${join(dir, 'manifest.json')} holds an invalid toy config: ${(err as Error).message}`, join(dir, 'manifest.json'));
  }
  const path = join(dir, 'instances.json');
  const instances = readJson<ToyInstance[]>(path);
  if (!Array.isArray(instances) || instances.length !== config.instances) {
    throw new InputError(`${path} should hold ${config.instances} instances`, path);
  }
  instances.forEach((inst, k) => {
    const okW = Array.isArray(inst.W) && inst.W.length === config.features && inst.W.every((r) => r.length === config.hidden);
    if (!okW || (hasNeurons(config.model) && (!inst.W1 || !inst.b1 || !inst.b2))) {
      throw new InputError(`${path}: instance ${k} lacks weights of shape ${config.features} x ${config.hidden}`, path);
    }
  });
  return { dir, config, instances };
}

function checkInstance(run: ToyRun, instance: number): ToyInstance {
  const inst = run.instances[instance];
  if (!Number.isInteger(instance) || !inst) {
    throw new InputError(`${run.dir} has instances 0..${run.instances.length - 1}; asked for ${instance}`, run.dir);
  }
  return inst;
}

/** A batch from the instance's data distribution: x [batch x n] and its 0/1 mask of active features. */
export function sampleToyBatch(run: ToyRun, instance: number, batch: number, rng: Rng): { x: Float32Array; active: Uint8Array } {
  const inst = checkInstance(run, instance);
  const p = inst.feature_prob ?? featureProbs(run.config)[instance]!;
  const b = allocBatch(batch, run.config.features, p);
  sampleInto(b, p, run.config.model === 'abs', rng);
  return densify(b);
}

/**
 * The hidden activations of `batch` rows of x: 'hook_hidden' (h = W^T x, width m) for linear / relu-out,
 * 'hook_neurons' (ReLU(W1 x + b1), width = neurons) for relu-hidden / abs.
 */
export function toyHidden(run: ToyRun, instance: number, x: Float32Array, batch: number): { hook: string; values: Float32Array; width: number } {
  const inst = checkInstance(run, instance);
  const spec = specOf(run.config);
  if (x.length !== batch * spec.n) throw new InputError(`toyHidden: x has ${x.length} values, expected ${batch} x ${spec.n}`);
  const params = flatFromNamed(spec, inst);
  const values = new Float32Array(batch * spec.m);
  forward(spec, params, x, batch, undefined, values);
  return { hook: hasNeurons(spec.model) ? 'hook_neurons' : 'hook_hidden', values, width: spec.m };
}

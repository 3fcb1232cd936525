/**
 * The capacity claim, measured on a language model: for every probed (feature, hook) of a probe run and
 * its classify run, how much the model's next-token loss depends on the feature at that hook, beside how
 * much of the layer the feature takes.
 *
 *  - frequency: positive rows / rows of the store at that hook (the whole harvested text).
 *  - importance: loss increase, in bits per byte of the held-out evaluation text (eval-text.ts), when the
 *    feature's direction is mean-ablated at the hook (activations ablateDirection). The direction is the
 *    unit vector of the feature's best probe (classify's best_method and best_k: highest test F1 over
 *    every k and ranking method), whose coefficients sit on raw neuron activations (the probes fit no
 *    scaling), placed back at their neurons in the hook's full width.
 *  - importance_k1 / importance_kstar: the same increase when the neurons of the 1-sparse probe and of
 *    the k*-sparse probe (best F1 at k* over methods, as classify picks it) are mean-ablated
 *    (activations ablateNeurons, the `lab ablate` computation).
 *  - capacity, dedicated, k_star: classify's feature row.
 *  - mono_share: sum of |coef| of the best probe on neurons classify labels mono, over sum of |coef|.
 *
 * One unablated pass per hook (hookBaseline) gives the base loss and the hook's mean; every ablation is
 * then one forward pass over the evaluation text.
 */
import { resolve } from 'node:path';
import { InputError, UsageError, readJson, readManifest } from '../core/index.ts';
import { ablateDirection, ablateNeurons, hookBaseline, openActivationStore, type LanguageModel } from '../../activations/index.ts';
import { readSweep, type ClassifyResult, type FeatureRow, type SweepRow } from '../../probes/index.ts';
import { heldOutText, type EvalText } from './eval-text.ts';

export interface CapacityRow {
  feature: string;
  hook: string;
  frequency: number;
  importance: number;
  importance_k1: number;
  importance_kstar: number;
  capacity: number;
  dedicated: boolean;
  k_star: number;
  mono_share: number;
}

export interface HookMeasurement {
  hook: string;
  rows: CapacityRow[];
  /** Unablated loss on the evaluation text, nats per predicted token. */
  base_loss: number;
  /** Features classify skipped at this hook (no probe to take a direction from), with the reason. */
  skipped: Array<{ feature: string; reason: string }>;
}

export interface CapacityInputs {
  probeDir: string;
  classifyDir: string;
  /** Exact hook names to measure (default: every hook the probe run probed). */
  hooks?: string[];
  evalBytes: number;
  evalStrict?: boolean;
  window?: number;
}

/** A probe run, its classify run and its store, checked against each other and the model. */
export interface CapacityPlan {
  hooks: string[];
  features: Record<string, string[]>;
  sweep: SweepRow[];
  classify: ClassifyResult;
  method: string;
  store: ReturnType<typeof openActivationStore>;
  config: ReturnType<typeof readSweep>['config'];
  evalText: EvalText;
}

/** Reads and cross-checks the inputs; every mismatch is an error naming the file, flag or hook. */
export function planCapacity(model: LanguageModel, inp: CapacityInputs): CapacityPlan {
  const { manifest, config, rows } = readSweep(inp.probeDir);
  const hooksInfo = (manifest.hooks ?? {}) as Record<string, { features: string[] }>;
  const probed = Object.keys(hooksInfo);
  const names = new Set(model.hookNames());
  for (const h of inp.hooks ?? []) {
    if (!names.has(h)) throw new UsageError(`--hooks: '${h}' is not a hook of the model in ${model.source.dir} (${model.config.nLayers} layers)`, 'hooks');
    if (!probed.includes(h)) throw new UsageError(`--hooks: '${h}' was not probed by ${inp.probeDir} (probed: ${probed.join(', ')})`, 'hooks');
  }
  if (config.contrast) {
    // Its probes and classify responses compare each bigram with its hard negatives only, while the
    // capacity claim is about a feature against everything else the layer holds.
    throw new InputError(
      `${inp.probeDir}: a --contrast ${config.contrast} probe run (each feature against its hard negatives only); ` +
        'lab capacity needs a plain probe run: probe the store again without --contrast', inp.probeDir);
  }
  const store = openActivationStore(config.activations);
  const sm = store.manifest.model as { source?: string; dir?: string; checksum?: string };
  if (sm.source === 'toy') {
    throw new InputError(`${inp.probeDir}: its store ${config.activations} came from a toy model; lab capacity measures a language model (toy runs go to --toy)`, inp.probeDir);
  }
  if (sm.checksum !== model.source.checksum) {
    throw new InputError(
      `${inp.probeDir}: its store ${config.activations} came from the model in ${sm.dir ?? '?'} (weights ${String(sm.checksum).slice(0, 12)}), ` +
        `not from --model ${model.source.dir} (weights ${model.source.checksum.slice(0, 12)})`, inp.probeDir);
  }
  const hooks = inp.hooks ?? probed;
  for (const h of hooks) {
    if (!names.has(h)) throw new InputError(`${inp.probeDir}: probed hook '${h}' is not a hook of the model in ${model.source.dir}`, inp.probeDir);
  }
  const cm = readManifest(inp.classifyDir, { kind: 'classify' });
  const cprobes = (cm.config as { probes?: string }).probes;
  if (typeof cprobes === 'string' && resolve(cprobes) !== resolve(inp.probeDir)) {
    throw new InputError(`${inp.classifyDir} classifies the probe run ${cprobes}, not ${resolve(inp.probeDir)}`, inp.classifyDir);
  }
  const classify = readJson<ClassifyResult>(`${inp.classifyDir}/classify.json`);
  if (!Array.isArray(classify?.features) || !Array.isArray(classify?.neurons)) {
    throw new InputError(`${inp.classifyDir}/classify.json has no features and neurons lists`, `${inp.classifyDir}/classify.json`);
  }
  const method = typeof (cm.config as { method?: unknown }).method === 'string' ? (cm.config as { method: string }).method : 'best';
  const features = Object.fromEntries(hooks.map((h) => [h, hooksInfo[h]!.features]));
  // One evaluation text for every hook (the split is by sequence and the same at every hook).
  const ok = [...new Set(classify.features.filter((f) => hooks.includes(f.hook) && f.status === 'ok').map((f) => f.feature))];
  const evalText = heldOutText(store, hooks[0]!, hooksInfo[hooks[0]!]!.features, ok, config, model.tokenizer, {
    bytes: inp.evalBytes, strict: inp.evalStrict, where: inp.probeDir,
  });
  return { hooks, features, sweep: rows, classify, method, store, config, evalText };
}

/** The sweep row of a (feature, hook) at k with the best F1 (over methods, or classify's one method). */
function probeAt(plan: CapacityPlan, f: FeatureRow, k: number, method?: string): SweepRow {
  let best: SweepRow | undefined;
  for (const r of plan.sweep) {
    if (r.hook !== f.hook || r.feature !== f.feature || r.k !== k || r.status !== 'ok' || r.f1 === null) continue;
    if (method !== undefined && r.method !== method) continue;
    if (!best || r.f1 > best.f1!) best = r; // ties go to the earlier method, as classify breaks them
  }
  if (!best) throw new InputError(`probe run has no finished probe for '${f.feature}' on '${f.hook}' at k=${k}${method ? ` (${method})` : ''}`, 'probes');
  return best;
}

/** Measures one hook: one baseline pass, then three ablations per classified feature. */
export function measureHook(model: LanguageModel, plan: CapacityPlan, hook: string, opts: { window?: number; onFeature?: (f: string) => void } = {}): HookMeasurement {
  const text = plan.evalText.text;
  const baseline = hookBaseline(model, text, { hook, window: opts.window });
  const data = plan.store.readProbeData(hook);
  const labels = new Map(plan.classify.neurons.filter((n) => n.hook === hook).map((n) => [n.neuron, n.label]));
  const rows: CapacityRow[] = [];
  const skipped: HookMeasurement['skipped'] = [];
  const one = plan.method === 'best' ? undefined : plan.method;
  for (const f of plan.classify.features.filter((x) => x.hook === hook)) {
    if (f.status !== 'ok' || f.best_k === null || f.k_star === null) {
      skipped.push({ feature: f.feature, reason: f.skip_reason || 'not classified' });
      continue;
    }
    opts.onFeature?.(f.feature);
    const bestProbe = probeAt(plan, f, f.best_k, f.best_method);
    const direction = new Float64Array(baseline.width);
    let absAll = 0, absMono = 0;
    bestProbe.neurons.forEach((n, i) => {
      const c = bestProbe.coefs[i]!;
      direction[n] = c;
      absAll += Math.abs(c);
      if (labels.get(n) === 'mono') absMono += Math.abs(c);
    });
    const dir = ablateDirection(model, text, { hook, direction, mode: 'mean', window: opts.window, baseline });
    const neuronLoss = (neurons: number[]) =>
      ablateNeurons(model, text, { hook, neurons, mode: 'mean', window: opts.window, base: baseline.base_loss, hookMean: baseline.mean }).delta_bits_per_byte;
    const k1 = probeAt(plan, f, 1, one).neurons;
    const kstar = probeAt(plan, f, f.k_star, one).neurons;
    const imp1 = neuronLoss(k1);
    const same = kstar.length === k1.length && kstar.every((n, i) => n === k1[i]);
    const y = data.labels[f.feature];
    if (!y) throw new InputError(`${plan.store.dir}: hook '${hook}' has no label '${f.feature}'`, plan.store.dir);
    let pos = 0;
    for (let r = 0; r < y.length; r++) pos += y[r]!;
    rows.push({
      feature: f.feature, hook, frequency: pos / y.length,
      importance: dir.delta_bits_per_byte, importance_k1: imp1, importance_kstar: same ? imp1 : neuronLoss(kstar),
      capacity: f.capacity, dedicated: f.dedicated, k_star: f.k_star, mono_share: absAll > 0 ? absMono / absAll : 0,
    });
  }
  return { hook, rows, base_loss: baseline.base_loss, skipped };
}

/**
 * Hook points: every named activation passes through `HookRunner.point`, which lets a hook function
 * read or replace it and caches it when the names filter asks for it. Names follow TransformerLens.
 */
import { tf } from '../../lab/core/backend.ts';
import { UsageError } from '../../lab/core/index.ts';
import type { ForwardOptions, HookFn, HookName } from '../types.ts';

/** The per-block hook names, in the order a forward pass reaches them. */
export const BLOCK_HOOKS = [
  'hook_resid_pre',
  'ln1.hook_normalized',
  'attn.hook_q',
  'attn.hook_k',
  'attn.hook_v',
  'attn.hook_attn_scores',
  'attn.hook_pattern',
  'attn.hook_z',
  'hook_attn_out',
  'hook_resid_mid',
  'ln2.hook_normalized',
  'mlp.hook_pre',
  'mlp.hook_post',
  'hook_mlp_out',
  'hook_resid_post',
] as const;

/** The config fields that add hook points: a gated MLP (mlp.hook_pre_linear), Gemma 2's output norms. */
export interface HookLayout {
  gatedMlp?: boolean;
  postNorms?: boolean;
}

/** BLOCK_HOOKS plus the points a layout adds, in forward order (as TransformerLens names them). */
export function blockHooks(layout: HookLayout = {}): string[] {
  const out: string[] = [];
  for (const h of BLOCK_HOOKS) {
    if (h === 'hook_attn_out' && layout.postNorms) out.push('ln1_post.hook_normalized');
    out.push(h);
    if (h === 'mlp.hook_pre' && layout.gatedMlp) out.push('mlp.hook_pre_linear');
    if (h === 'mlp.hook_post' && layout.postNorms) out.push('ln2_post.hook_normalized');
  }
  return out;
}

export function allHookNames(nLayers: number, positional: boolean, layout?: HookLayout): HookName[] {
  const names: HookName[] = positional ? ['hook_embed', 'hook_pos_embed'] : ['hook_embed'];
  const block = blockHooks(layout);
  for (let l = 0; l < nLayers; l++) for (const h of block) names.push(`blocks.${l}.${h}`);
  names.push('ln_final.hook_normalized');
  return names;
}

/**
 * A glob over hook names: `*` matches any run of characters (so `blocks.*.mlp.hook_post` picks every
 * layer); everything else is literal. The lab's one hook-glob compiler: the forward's name filter, the
 * model's and the harvester's hook expansion, and the probe sweep's --hooks filter all go through it.
 */
export function globToRegExp(pattern: string): RegExp {
  const esc = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${esc}$`);
}

/** A predicate over hook names from globs: an array, or one comma-separated string (blanks ignored). */
export function hookGlobMatcher(patterns: string | readonly string[]): (name: string) => boolean {
  const list = typeof patterns === 'string' ? patterns.split(',').map((p) => p.trim()).filter((p) => p.length > 0) : patterns;
  const res = list.map(globToRegExp);
  return (n) => res.some((r) => r.test(n));
}

export function nameFilter(names: ForwardOptions['names']): (name: HookName) => boolean {
  if (names === undefined) return () => false;
  if (typeof names === 'function') return names;
  return hookGlobMatcher(names);
}

/** Patterns that describe the hook names of a model with `nLayers` blocks, for error messages. */
export function hookPatterns(nLayers: number, positional: boolean): string[] {
  return [
    ...(positional ? ['hook_embed', 'hook_pos_embed'] : ['hook_embed']),
    ...BLOCK_HOOKS.map((h) => `blocks.{0..${nLayers - 1}}.${h}`),
    'ln_final.hook_normalized',
  ];
}

/**
 * Expands patterns against the available hook names, in pattern order without repeats; a pattern that
 * matches nothing throws the UsageError `miss(pattern)` builds (each caller says what was valid).
 */
export function expandHookGlobs(patterns: readonly string[], available: readonly HookName[], miss: (pattern: string) => UsageError): HookName[] {
  const out: HookName[] = [];
  for (const p of patterns) {
    const re = globToRegExp(p);
    const hits = available.filter((n) => re.test(n));
    if (hits.length === 0) throw miss(p);
    for (const h of hits) if (!out.includes(h)) out.push(h);
  }
  return out;
}

/**
 * Expands patterns against a model's hook names; a pattern that matches nothing is a usage error
 * that lists the valid patterns (`flag` names the CLI flag it came from).
 */
export function resolveHooks(patterns: string[], available: HookName[], nLayers: number, positional: boolean, flag = 'hook'): HookName[] {
  return expandHookGlobs(patterns, available, (p) => new UsageError(
    `--${flag} '${p}' matches no hook of this model; valid hooks: ${hookPatterns(nLayers, positional).join(', ')} (* matches anything)`,
    flag,
  ));
}

export class HookRunner {
  readonly cache = new Map<HookName, tf.Tensor>();
  private readonly want: (name: HookName) => boolean;
  private readonly hooks: Record<HookName, HookFn>;
  /** True when no hook function and no cache is asked for, so `point` is a pass-through. */
  readonly idle: boolean;

  constructor(opts: ForwardOptions = {}) {
    this.want = nameFilter(opts.names);
    this.hooks = opts.hooks ?? {};
    this.idle = opts.names === undefined && Object.keys(this.hooks).length === 0;
  }

  /** Runs the hook at `name` (which may replace the value) and caches the result if asked. */
  point<T extends tf.Tensor>(name: HookName, value: T): T {
    if (this.idle) return value;
    let v: T = value;
    const fn = this.hooks[name];
    if (fn) {
      const r = fn(name, v);
      if (r !== undefined) {
        if (r.shape.length !== v.shape.length || r.shape.some((d, i) => d !== v.shape[i])) {
          throw new UsageError(`hook '${name}' returned shape [${r.shape}]; it must keep [${v.shape}]`);
        }
        v = r as T;
      }
    }
    if (this.want(name)) this.cache.set(name, tf.keep(v.clone()));
    return v;
  }

  /** Whether any hook function or cache entry wants this name (lets callers skip building a value). */
  wants(name: HookName): boolean {
    return !this.idle && (this.want(name) || this.hooks[name] !== undefined);
  }
}

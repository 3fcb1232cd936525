/**
 * The registry of neuron-ranking methods. Each method lives in its own file in this folder and exports
 * a spec made with defineRankMethod; probes/rank/methods.ts lists the built-in ones. `lab probe
 * --methods`, `lab classify --method` and `lab demo --methods` take their help and validation from here
 * (rankMethodNames, checkRankMethods), and rankNeurons dispatches through it, so a method added here is
 * known everywhere at once. As arquero's op registry does, registering a name twice is an error rather
 * than a silent override. See ADDING_A_RANKING_METHOD.md.
 */
import { UsageError } from '../../lab/core/index.ts';
import type { Matrix, RankResult } from '../types.ts';
import { orderByScore } from './class-stats.ts';

/** What rankNeurons hands a method, after checking it (maxK within [1, nCols], timeLimitS > 0). */
export interface RankContext {
  /** Largest k a caller will ask for. */
  maxK: number;
  /** Seconds of budget for iterative methods; undefined means the method's own default. */
  timeLimitS?: number;
  /** Seed for methods with randomness (0 when the caller gave none). */
  seed: number;
  /** osp: candidate neurons and largest MIP k (see RankOptions). */
  ospTopN?: number;
  ospMaxK?: number;
}

export interface RankMethodSpec<N extends string = string> {
  /** The name users type (`--methods NAME`) and the sweep's method column holds. */
  name: N;
  /** One line for help texts and the README. */
  summary: string;
  rank(X: Matrix, y: Uint8Array, ctx: RankContext): RankResult;
  /** Asynchronous set-up, awaited once by prepareRanking before the first rank (osp loads a wasm solver). */
  prepare?: () => Promise<void>;
}

/** Identity with the name's literal type kept, so the built-in list yields the RankMethod union. */
export function defineRankMethod<N extends string>(spec: RankMethodSpec<N>): RankMethodSpec<N> {
  return spec;
}

const methods = new Map<string, RankMethodSpec>();

/** Adds a method; a name already registered is an error naming both summaries. */
export function registerRankMethod(spec: RankMethodSpec): void {
  if (!/^[a-z][a-z0-9_]*$/.test(spec.name)) throw new Error(`ranking method name '${spec.name}' must be lower snake_case (it is a column value and a flag value)`);
  const old = methods.get(spec.name);
  if (old) throw new Error(`ranking method '${spec.name}' is already registered (${old.summary}); pick another name`);
  methods.set(spec.name, spec);
}

/** Registered names in registration order (the built-ins first, as methods.ts lists them). */
export function rankMethodNames(): string[] {
  return [...methods.keys()];
}

export function rankMethodSpecs(): RankMethodSpec[] {
  return [...methods.values()];
}

export function hasRankMethod(name: string): boolean {
  return methods.has(name);
}

/** The spec of a method; an unknown name is a UsageError for `flag` listing the registered ones. */
export function rankMethod(name: string, flag = 'methods'): RankMethodSpec {
  const spec = methods.get(name);
  if (!spec) throw new UsageError(`unknown ranking method '${name}' (one of ${rankMethodNames().join(', ')})`, flag);
  return spec;
}

/** A nested ranking: one per-neuron score whose top k is the support for every k. */
export function nestedRanking(scores: Float64Array): RankResult {
  return { order: orderByScore(scores), scores };
}

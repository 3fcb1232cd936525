/**
 * Train/test split by sequence id. Rows of one sequence never straddle the split (the reference work
 * split token rows at random, which leaks a sequence's context into both sides). One split serves every
 * feature and hook of a run, so the seed alone fixes it and the classifier can rebuild it.
 */
import { Rng } from '../lab/core/index.ts';
import { UsageError } from '../lab/core/index.ts';

export interface Split {
  /** Row indices, ascending. */
  train: Int32Array;
  test: Int32Array;
  /** Distinct sequence ids on each side, ascending. */
  trainSeqs: number[];
  testSeqs: number[];
  /** Features for which the repair pass could not put both classes on both sides. */
  unbalanced: string[];
}

export interface SplitOptions {
  testFrac: number;
  seed: number;
  /** Features to stratify on (both classes on both sides where the sequences allow it). */
  labels?: Record<string, Uint8Array>;
}

/**
 * Shuffles the distinct sequence ids with the seed, sends the first round(testFrac * nSeqs) to test,
 * then repairs: for each feature (in name order) whose positives (or negatives) all fell on one side
 * although at least two sequences hold them, it swaps one such sequence with one from the other side
 * that holds neither class the feature lacks there, preferring swaps that break no feature fixed before.
 * Stratifying exactly over many binary labels at once is a hard combinatorial problem; this pass is
 * enough for "both classes on both sides" and leaves the shuffle untouched when nothing needs fixing.
 */
export function splitBySequence(seqIds: Int32Array, opts: SplitOptions): Split {
  const { testFrac, seed } = opts;
  if (!(testFrac > 0 && testFrac < 1)) throw new UsageError(`--test-frac must be in (0, 1), got ${testFrac}`, 'test-frac');
  const distinct = [...new Set(seqIds)].sort((a, b) => a - b);
  if (distinct.length < 2) {
    throw new UsageError(`cannot split ${distinct.length} sequence(s) into train and test: need at least 2`, 'test-frac');
  }
  const order = new Rng(seed).shuffle(distinct.slice());
  const nTest = Math.min(distinct.length - 1, Math.max(1, Math.round(testFrac * distinct.length)));
  const inTest = new Map<number, boolean>();
  order.forEach((s, i) => inTest.set(s, i < nTest));

  const unbalanced: string[] = [];
  if (opts.labels) repair(seqIds, opts.labels, order, inTest, unbalanced);

  const train: number[] = [];
  const test: number[] = [];
  for (let r = 0; r < seqIds.length; r++) (inTest.get(seqIds[r]!) ? test : train).push(r);
  const trainSeqs = distinct.filter((s) => !inTest.get(s));
  const testSeqs = distinct.filter((s) => inTest.get(s));
  return { train: Int32Array.from(train), test: Int32Array.from(test), trainSeqs, testSeqs, unbalanced };
}

/** Per feature: which sequences hold at least one positive row, and which at least one negative. */
function classSets(seqIds: Int32Array, y: Uint8Array): { pos: Set<number>; neg: Set<number> } {
  const pos = new Set<number>();
  const neg = new Set<number>();
  for (let r = 0; r < y.length; r++) (y[r] ? pos : neg).add(seqIds[r]!);
  return { pos, neg };
}

function repair(
  seqIds: Int32Array,
  labels: Record<string, Uint8Array>,
  order: number[],
  inTest: Map<number, boolean>,
  unbalanced: string[],
): void {
  const names = Object.keys(labels).sort();
  const sets = names.map((n) => classSets(seqIds, labels[n]!));
  const sideHas = (set: Set<number>, test: boolean) => {
    for (const s of set) if (inTest.get(s) === test) return true;
    return false;
  };
  const classOk = (set: Set<number>) => set.size < 2 || (sideHas(set, true) && sideHas(set, false));
  const ok = (i: number) => classOk(sets[i]!.pos) && classOk(sets[i]!.neg);
  for (let i = 0; i < names.length; i++) {
    for (const cls of ['pos', 'neg'] as const) {
      const set = sets[i]![cls];
      if (set.size < 2) continue;
      for (const side of [true, false]) {
        if (sideHas(set, side)) continue;
        // Move one sequence of this class to `side`, and one from `side` (outside the class) back.
        const fixedBefore = sets.slice(0, i).map((_, j) => j).filter(ok);
        const other = sets[i]![cls === 'pos' ? 'neg' : 'pos'];
        const otherWasOk = classOk(other);
        // Bounded search: a handful of candidate pairs in shuffled order is plenty in practice and
        // keeps the pass linear in the number of sequences.
        const as = order.filter((s) => set.has(s) && inTest.get(s) !== side).slice(0, 8);
        const bs = order.filter((s) => !set.has(s) && inTest.get(s) === side).slice(0, 8);
        search: for (const a of as) {
          for (const b of bs) {
            inTest.set(a, side);
            inTest.set(b, !side);
            if (fixedBefore.every(ok) && (!otherWasOk || classOk(other))) break search;
            inTest.set(a, !side);
            inTest.set(b, side);
          }
        }
      }
    }
  }
  for (let i = 0; i < names.length; i++) if (!ok(i)) unbalanced.push(names[i]!);
}

/** Copies the given rows of a row-major matrix into a new one. */
/** The given rows of a row-major matrix; in a SharedArrayBuffer when `shared` (for worker threads). */
export function takeRows(X: Float32Array, nCols: number, rows: Int32Array, shared = false): Float32Array {
  const n = rows.length * nCols;
  const out = shared ? new Float32Array(new SharedArrayBuffer(n * 4)) : new Float32Array(n);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    out.set(X.subarray(r * nCols, (r + 1) * nCols), i * nCols);
  }
  return out;
}

export function takeLabels(y: Uint8Array, rows: Int32Array): Uint8Array {
  const out = new Uint8Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = y[rows[i]!]!;
  return out;
}

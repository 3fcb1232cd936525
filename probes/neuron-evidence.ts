/**
 * The evidence behind a neuron's label, read from an activation store chunk by chunk: its top rows
 * with their contexts, samples from each quantile of its active values (as sae_vis shows a feature),
 * its histogram over all rows and over each feature's positives, and the neurons of the store most
 * correlated with it. Memory: one decoded chunk of one hook, plus the selected neurons' columns and
 * the rows' (seq_id, position, token_id), all O(rows x selected), never the store.
 *
 * Definitions:
 *  - top: the `top` largest activations; ties go to the lower row index (row = index in store order).
 *  - active: activation > DEAD_ACT (probes/neurons.ts), the same threshold as the classify run's
 *    active_frac. quantiles: the active values sorted and cut into `quantiles` groups of equal count;
 *    each group shows `perQuantile` rows drawn uniformly (seeded) from the rows in its value range.
 *  - histogram: `bins` equal bins from the neuron's min to max over all rows, numpy.histogram's edges and
 *    convention (half-open bins, the last closed; a constant neuron v gets the range [v - 0.5, v + 0.5]).
 *  - context: up to `before` rows before and `after` rows after the row in the same sequence (a sequence's
 *    rows are contiguous and in position order in the store), each token with this neuron's activation.
 *  - correlated: Pearson correlation over all rows with every other neuron of every hook of the store;
 *    the `correlated` highest. Values are shifted by their hook's first-chunk means (numerically stable
 *    in one pass); the sums, squares and cross products run on the SIMD kernel of simd-comoments.ts in
 *    the same pass that reads each chunk once: f32 products summed in f32 over slabs of 128 rows, the
 *    slab sums added in f64 (within 1e-6 of numpy.corrcoef in float64; neuron-evidence.test.ts).
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, Rng, UsageError } from '../lab/core/index.ts';
import { dequantU8, halfToFloatTable, type ActivationStore, type StoreDtype, type Tokenizer } from '../activations/index.ts';
import { DEAD_ACT } from './neurons.ts';
import { Comoments } from './simd-comoments.ts';

export interface ContextToken {
  text: string;
  token_id: number;
  position: number;
  activation: number;
}

export interface RowSample {
  row: number;
  seq_id: number;
  position: number;
  token_id: number;
  activation: number;
  /** The row's own token within `tokens`. */
  index: number;
  tokens: ContextToken[];
}

export interface QuantileGroup {
  lo: number;
  hi: number;
  count: number;
  /** Share of all rows in this group. */
  frac: number;
  examples: RowSample[];
}

export interface NeuronHistogram {
  edges: number[];
  counts: number[];
  /** Per feature: counts over that feature's positive rows (same edges). */
  by_feature: Record<string, number[]>;
  positives: Record<string, number>;
  active_frac: number;
  mean: number;
  std: number;
  min: number;
  max: number;
}

export interface CorrelatedNeuron {
  hook: string;
  neuron: number;
  pearson: number;
}

export interface NeuronEvidence {
  hook: string;
  neuron: number;
  rows: number;
  top: RowSample[];
  quantiles: QuantileGroup[];
  histogram: NeuronHistogram;
  correlated: CorrelatedNeuron[];
}

export interface EvidenceOptions {
  hook: string;
  neurons: number[];
  top?: number;
  quantiles?: number;
  perQuantile?: number;
  bins?: number;
  /** How many correlated neurons (0 skips the correlation pass). */
  correlated?: number;
  before?: number;
  after?: number;
  /** Decodes token ids; without one a token's text is `#id` (toy rows: `sample N`). */
  tokenizer?: Tokenizer;
  seed?: number;
}

export const EVIDENCE_DEFAULTS = { top: 20, quantiles: 10, perQuantile: 3, bins: 30, correlated: 5, before: 10, after: 4 };

/** Reads a whole file; the error names it. */
function readAll(path: string, expect: number): Buffer {
  let b: Buffer;
  try {
    b = readFileSync(path);
  } catch (err) {
    throw new InputError(`cannot read ${path}: ${(err as Error).message}`, path);
  }
  if (b.length !== expect) throw new InputError(`${path} has ${b.length} bytes, expected ${expect}: the store is corrupt`, path);
  return b;
}

/** Reads a file of exactly `into.length` bytes into `into` (the kernel's memory: no intermediate copy). */
function readInto(path: string, into: Uint8Array): void {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new InputError(`cannot read ${path}: ${(err as Error).message}`, path);
  }
  try {
    const size = fstatSync(fd).size;
    if (size !== into.length) throw new InputError(`${path} has ${size} bytes, expected ${into.length}: the store is corrupt`, path);
    for (let at = 0; at < into.length; ) {
      const got = readSync(fd, into, at, into.length - at, at);
      if (got === 0) throw new InputError(`${path} ended at ${at} of ${into.length} bytes: the store is corrupt`, path);
      at += got;
    }
  } finally {
    closeSync(fd);
  }
}

/** A typed view of a file's bytes, copied only when the buffer is misaligned for the element size. */
function view<T>(b: Uint8Array, size: number, make: (buf: ArrayBuffer, off: number, len: number) => T): T {
  if (b.byteOffset % size === 0) return make(b.buffer as ArrayBuffer, b.byteOffset, b.length / size);
  const copy = b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer;
  return make(copy, 0, b.length / size);
}

/**
 * One pass over the store, each chunk's files read once: the selected neurons' columns (decoded as
 * activations/README.md documents: f16 is IEEE half, u8 is offset + scale * q; only those neurons),
 * the row index and the labels and, when `correlated`, every hook's chunk into the SIMD kernel
 * (simd-comoments.ts), which accumulates the moments and the cross products with the selected neurons.
 */
function scan(store: ActivationStore, hook: string, neurons: number[], correlated: boolean) {
  const m = store.manifest;
  const N = m.total_rows;
  const cols = neurons.map(() => new Float32Array(N));
  const seqIds = new Int32Array(N), positions = new Int32Array(N), tokenIds = new Int32Array(N);
  const h = m.hooks.find((x) => x.name === hook)!;
  const prefix = h.label_prefix ?? '';
  const labelCols = m.dataset.label_columns;
  const feats = store.features.filter((f) => labelCols.includes(prefix + f));
  const labels = feats.map(() => new Uint8Array(N));
  // The selected hook first: its chunk gives the selected columns the other hooks' chunks pair with.
  const hooks = correlated ? [h, ...m.hooks.filter((x) => x !== h)] : [h];
  const maxRows = m.chunks.reduce((t, c) => Math.max(t, c.rows), 0);
  const kernel = correlated && maxRows > 0 ? new Comoments({ widths: hooks.map((x) => x.n_neurons), selected: neurons.length, maxRows, dtype: m.dtype }) : undefined;
  const bytes = { f32: 4, f16: 2, u8: 1 }[m.dtype];
  // Without the kernel, one reused buffer of the largest chunk (a fresh buffer per file costs its page faults).
  const own = kernel ? undefined : new Uint8Array(maxRows * h.n_neurons * bytes);
  const half = halfToFloatTable();
  let at = 0;
  for (const c of m.chunks) {
    const R = c.rows;
    hooks.forEach((hk, k) => {
      const n = hk.n_neurons;
      const f = c.files.hooks[hk.name]!;
      const path = join(store.dir, f.data);
      const data = kernel ? kernel.raw(R * n * bytes) : own!.subarray(0, R * n * bytes);
      readInto(path, data);
      const qp = m.dtype === 'u8' ? qparams(store, f.qparams!, m.quantisation === 'per_tensor' ? 1 : n) : undefined;
      if (k === 0) columns(data, m.dtype, qp, R, n, neurons, cols, at, half);
      kernel?.add(k, R, m.dtype, qp, k === 0 ? neurons : undefined);
    });
    const idx = view(readAll(join(store.dir, c.files.rows), R * 12), 4, (b, o, l) => new Int32Array(b, o, l));
    for (let r = 0; r < R; r++) {
      seqIds[at + r] = idx[r * 3]!;
      positions[at + r] = idx[r * 3 + 1]!;
      tokenIds[at + r] = idx[r * 3 + 2]!;
    }
    const nc = labelCols.length;
    const lb = readAll(join(store.dir, c.files.labels), R * nc);
    feats.forEach((ft, k) => {
      const j = labelCols.indexOf(prefix + ft);
      const dst = labels[k]!;
      for (let r = 0; r < R; r++) dst[at + r] = lb[r * nc + j]!;
    });
    at += R;
  }
  return { N, cols, seqIds, positions, tokenIds, feats, labels, hooks, kernel };
}

/** u8's qparams file: scale per group, then offset per group. */
function qparams(store: ActivationStore, file: string, groups: number): Float32Array {
  return view(readAll(join(store.dir, file), groups * 8), 4, (b, o, l) => new Float32Array(b, o, l));
}

/** The selected neurons' values of one chunk (rows x n as stored) into `cols` from row `at`. */
function columns(data: Uint8Array, dtype: StoreDtype, qp: Float32Array | undefined, R: number, n: number, neurons: number[], cols: Float32Array[], at: number, half: Float32Array): void {
  let get: (i: number, j: number) => number;
  if (dtype === 'f32') {
    const x = view(data, 4, (b, o, l) => new Float32Array(b, o, l));
    get = (i) => x[i]!;
  } else if (dtype === 'f16') {
    const x = view(data, 2, (b, o, l) => new Uint16Array(b, o, l));
    get = (i) => half[x[i]!]!;
  } else {
    get = (i, j) => dequantU8(qp!, j, data[i]!);
  }
  for (let r = 0; r < R; r++) {
    const base = r * n;
    for (let s = 0; s < neurons.length; s++) cols[s]![at + r] = get(base + neurons[s]!, neurons[s]!);
  }
}

/**
 * Pearson correlation of each selected neuron with every neuron of every hook, from the kernel's shifted
 * sums: cov = cross - sum_a sum_b / N over var = sq - sum^2 / N. The selected neuron's own sums are its
 * hook's (the same shifted values the cross products used).
 */
function correlations(d: ReturnType<typeof scan>, hook: string, neurons: number[], keep: number): CorrelatedNeuron[][] {
  const S = neurons.length, N = d.N;
  const sel = d.kernel!.result(0, S);
  const sumA = neurons.map((j) => sel.sum[j]!), sqA = neurons.map((j) => sel.sq[j]!);
  const best: CorrelatedNeuron[][] = neurons.map(() => []);
  d.hooks.forEach((h, k) => {
    const n = h.n_neurons;
    const { sum: sumB, sq: sqB, cross } = k === 0 ? sel : d.kernel!.result(k, S);
    for (let s = 0; s < S; s++) {
      const varA = sqA[s]! - (sumA[s]! * sumA[s]!) / N;
      for (let j = 0; j < n; j++) {
        if (h.name === hook && j === neurons[s]) continue;
        const varB = sqB[j]! - (sumB[j]! * sumB[j]!) / N;
        const cov = cross[s * n + j]! - (sumA[s]! * sumB[j]!) / N;
        const den = Math.sqrt(varA * varB);
        if (!(den > 0)) continue;
        const list = best[s]!;
        const p = cov / den;
        if (list.length < keep || p > list[list.length - 1]!.pearson) {
          list.push({ hook: h.name, neuron: j, pearson: p });
          list.sort((u, v) => v.pearson - u.pearson);
          if (list.length > keep) list.pop();
        }
      }
    }
  });
  return best;
}

/** Evidence for each of `opts.neurons` of `opts.hook` (see the header for the definitions). */
export async function neuronEvidence(store: ActivationStore, opts: EvidenceOptions): Promise<NeuronEvidence[]> {
  const o = { ...EVIDENCE_DEFAULTS, ...opts };
  const h = store.manifest.hooks.find((x) => x.name === o.hook);
  if (!h) throw new UsageError(`--hook '${o.hook}' is not in the store ${store.dir}; it holds: ${store.hooks.join(', ')}`, 'hook');
  if (o.neurons.length === 0) throw new UsageError('--neurons: give at least one neuron', 'neurons');
  for (const n of o.neurons) {
    if (!Number.isInteger(n) || n < 0 || n >= h.n_neurons) {
      throw new UsageError(`--neurons: neuron ${n} is past ${o.hook}'s width ${h.n_neurons} (0..${h.n_neurons - 1})`, 'neurons');
    }
  }
  if (!(o.top >= 1)) throw new UsageError(`--top must be >= 1, got ${o.top}`, 'top');
  if (!(o.quantiles >= 1)) throw new UsageError(`--quantiles must be >= 1, got ${o.quantiles}`, 'quantiles');
  const d = scan(store, o.hook, o.neurons, o.correlated > 0 && store.manifest.total_rows > 1);
  const text = (i: number): string => {
    const id = d.tokenIds[i]!;
    if (id < 0) return d.positions[i]! < 0 ? `seq ${d.seqIds[i]}` : `sample ${d.seqIds[i]}`;
    return o.tokenizer ? o.tokenizer.decode([id]) : `#${id}`;
  };
  const sample = (col: Float32Array, r: number): RowSample => {
    let a = r;
    while (a > 0 && r - a < o.before && d.seqIds[a - 1] === d.seqIds[r]) a--;
    let b = r;
    while (b + 1 < d.N && b - r < o.after && d.seqIds[b + 1] === d.seqIds[r]) b++;
    const tokens: ContextToken[] = [];
    for (let i = a; i <= b; i++) tokens.push({ text: text(i), token_id: d.tokenIds[i]!, position: d.positions[i]!, activation: col[i]! });
    return { row: r, seq_id: d.seqIds[r]!, position: d.positions[r]!, token_id: d.tokenIds[r]!, activation: col[r]!, index: r - a, tokens };
  };
  const rng = new Rng(o.seed ?? 0);
  const out: NeuronEvidence[] = o.neurons.map((neuron, s) => {
    const col = d.cols[s]!;
    return { hook: o.hook, neuron, rows: d.N, top: topRows(col, o.top).map((r) => sample(col, r)), quantiles: quantileGroups(col, o.quantiles, o.perQuantile, rng).map((g) => ({ ...g, examples: g.rows.map((r) => sample(col, r)) })).map(({ rows: _r, ...g }) => g), histogram: histogram(col, o.bins, d.feats, d.labels), correlated: [] };
  });
  if (d.kernel) {
    const corr = correlations(d, o.hook, o.neurons, o.correlated);
    out.forEach((e, s) => (e.correlated = corr[s]!));
  }
  return out;
}

/** Row indices of the k largest values, largest first, ties to the lower row. */
export function topRows(col: Float32Array, k: number): number[] {
  const idx: number[] = [];
  for (let r = 0; r < col.length; r++) {
    const v = col[r]!;
    if (idx.length === k && !(v > col[idx[k - 1]!]!)) continue;
    // Insert after every kept row with a value >= v: an equal value arrived earlier, so it stays first.
    let i = idx.length;
    while (i > 0 && col[idx[i - 1]!]! < v) i--;
    idx.splice(i, 0, r);
    if (idx.length > k) idx.pop();
  }
  return idx;
}

/** Equal-count groups of the active values (> DEAD_ACT), each with `per` rows drawn from its range. */
export function quantileGroups(col: Float32Array, q: number, per: number, rng: Rng): Array<Omit<QuantileGroup, 'examples'> & { rows: number[] }> {
  let na = 0;
  for (let r = 0; r < col.length; r++) if (col[r]! > DEAD_ACT) na++;
  const act = new Float32Array(na);
  for (let r = 0, i = 0; r < col.length; r++) if (col[r]! > DEAD_ACT) act[i++] = col[r]!;
  // Active values are positive, and positive floats order as their bit patterns: sorting those as u32
  // gives the same order as a float sort, several times faster (this runs per neuron over all rows).
  new Uint32Array(act.buffer).sort();
  if (act.length === 0) return [];
  const groups = Math.min(q, act.length);
  const bounds: Array<[number, number]> = [];
  for (let g = 0; g < groups; g++) {
    const a = Math.floor((g * act.length) / groups), b = Math.floor(((g + 1) * act.length) / groups) - 1;
    bounds.push([act[a]!, act[b]!]);
  }
  // A row belongs to the first group whose upper bound holds it (groups can share a boundary value).
  const members: number[][] = bounds.map(() => []);
  for (let r = 0; r < col.length; r++) {
    const v = col[r]!;
    if (!(v > DEAD_ACT)) continue;
    let g = 0;
    while (g < groups - 1 && v > bounds[g]![1]) g++;
    members[g]!.push(r);
  }
  return bounds.map(([lo, hi], g) => {
    const m = members[g]!;
    const picked = m.length <= per ? m : pick(m, per, rng);
    return { lo, hi, count: m.length, frac: m.length / col.length, rows: picked };
  });
}

/** `k` distinct elements drawn uniformly, in row order. */
function pick(m: number[], k: number, rng: Rng): number[] {
  const a = [...m];
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(a.length - i);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a.slice(0, k).sort((x, y) => x - y);
}

export function histogram(col: Float32Array, bins: number, feats: string[], labels: Uint8Array[]): NeuronHistogram {
  const N = col.length;
  let min = Infinity, max = -Infinity, sum = 0, active = 0;
  for (let r = 0; r < N; r++) {
    const v = col[r]!;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    if (v > DEAD_ACT) active++;
  }
  const mean = N ? sum / N : 0;
  let ss = 0;
  for (let r = 0; r < N; r++) {
    const d = col[r]! - mean;
    ss += d * d; // not (v - mean) ** 2: Math.pow costs 30x here
  }
  if (N === 0) min = max = 0;
  // Edges as numpy.histogram draws them (linspace: min + i * step, the last exactly max); bins half-open
  // [a, b) but the last closed, and a value on an edge goes to the bin it opens.
  const lo = max > min ? min : min - 0.5, hi = max > min ? max : max + 0.5;
  const width = (hi - lo) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? hi : lo + i * width));
  const bin = (v: number) => {
    let b = Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / width)));
    while (b < bins - 1 && v >= edges[b + 1]!) b++;
    while (b > 0 && v < edges[b]!) b--;
    return b;
  };
  // Each row's bin once, then plain counting loops per feature (typed arrays: this runs per neuron over
  // every row of the store).
  const which = new Float64Array(N); // float: a NaN value keeps its NaN bin (counted nowhere), as before
  const counts = new Array<number>(bins).fill(0);
  for (let r = 0; r < N; r++) counts[(which[r] = bin(col[r]!))]!++;
  const byFeature = feats.map(() => new Array<number>(bins).fill(0));
  const positives = feats.map((_, f) => {
    const lab = labels[f]!, into = new Int32Array(bins);
    let p = 0;
    for (let r = 0; r < N; r++) {
      if (lab[r]) {
        into[which[r]!]!++;
        p++;
      }
    }
    byFeature[f] = Array.from(into);
    return p;
  });
  return {
    edges, counts,
    by_feature: Object.fromEntries(feats.map((f, i) => [f, byFeature[i]!])),
    positives: Object.fromEntries(feats.map((f, i) => [f, positives[i]!])),
    active_frac: N ? active / N : 0, mean, std: N ? Math.sqrt(ss / N) : 0, min, max,
  };
}

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
 *    the `correlated` highest. Sums are shifted by the first chunk's means (numerically stable in one pass);
 *    sums and squares in float64 as each value is decoded, cross products per slab in float32 (a tfjs
 *    matMul), accumulated in float64.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend, tf } from '../lab/core/backend.ts';
import { InputError, Rng, UsageError } from '../lab/core/index.ts';
import { halfToFloatTable, type ActivationStore, type Tokenizer } from '../activations/index.ts';
import { DEAD_ACT } from './neurons.ts';

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

/** Rows per tfjs step of the correlation pass. */
const SLAB = 1024;

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

/** A typed view of a file's bytes, copied only when the buffer is misaligned for the element size. */
function view<T>(b: Buffer, size: number, make: (buf: ArrayBuffer, off: number, len: number) => T): T {
  if (b.byteOffset % size === 0) return make(b.buffer as ArrayBuffer, b.byteOffset, b.length / size);
  const copy = b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer;
  return make(copy, 0, b.length / size);
}

/**
 * Collects the selected neurons' columns, the row index and the labels in one pass over the hook's
 * files. Only the selected neurons are decoded (as activations/README.md documents: f16 is IEEE half,
 * u8 is offset + scale * q), so this pass costs the file reads, not a decode of every neuron.
 */
function collect(store: ActivationStore, hook: string, neurons: number[], n: number) {
  const m = store.manifest;
  const N = m.total_rows;
  const cols = neurons.map(() => new Float32Array(N));
  const seqIds = new Int32Array(N), positions = new Int32Array(N), tokenIds = new Int32Array(N);
  const h = m.hooks.find((x) => x.name === hook)!;
  const prefix = h.label_prefix ?? '';
  const labelCols = m.dataset.label_columns;
  const feats = store.features.filter((f) => labelCols.includes(prefix + f));
  const labels = feats.map(() => new Uint8Array(N));
  const half = halfToFloatTable();
  let at = 0;
  for (const c of m.chunks) {
    const R = c.rows;
    const raw = readRawChunk(store, hook, c, n);
    let get: (i: number, j: number) => number;
    if (raw.dtype === 'f32') {
      const x = raw.f32!;
      get = (i) => x[i]!;
    } else if (raw.dtype === 'f16') {
      const x = raw.f16!;
      get = (i) => half[x[i]!]!;
    } else {
      const x = raw.u8!, qp = raw.qp!, groups = raw.groups;
      get = (i, j) => {
        const g = groups === 1 ? 0 : j;
        return Math.fround(qp[groups + g]! + qp[g]! * x[i]!);
      };
    }
    for (let r = 0; r < R; r++) {
      const base = r * n;
      for (let s = 0; s < neurons.length; s++) cols[s]![at + r] = get(base + neurons[s]!, neurons[s]!);
    }
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
  return { N, cols, seqIds, positions, tokenIds, feats, labels };
}

/** One chunk's raw values of a hook, as stored (f32, f16 bits, or u8 codes with their qparams). */
interface RawChunk {
  dtype: 'f32' | 'f16' | 'u8';
  f32?: Float32Array;
  f16?: Uint16Array;
  u8?: Buffer;
  /** u8: scale per group then offset per group (groups = 1 per tensor, or one per neuron). */
  qp?: Float32Array;
  groups: number;
}

function readRawChunk(store: ActivationStore, hook: string, c: ActivationStore['manifest']['chunks'][number], n: number): RawChunk {
  const m = store.manifest;
  const f = c.files.hooks[hook]!;
  const bytes = { f32: 4, f16: 2, u8: 1 }[m.dtype];
  const data = readAll(join(store.dir, f.data), c.rows * n * bytes);
  if (m.dtype === 'f32') return { dtype: 'f32', f32: view(data, 4, (b, o, l) => new Float32Array(b, o, l)), groups: 0 };
  if (m.dtype === 'f16') return { dtype: 'f16', f16: view(data, 2, (b, o, l) => new Uint16Array(b, o, l)), groups: 0 };
  const groups = m.quantisation === 'per_tensor' ? 1 : n;
  const qp = view(readAll(join(store.dir, f.qparams!), groups * 8), 4, (b, o, l) => new Float32Array(b, o, l));
  return { dtype: 'u8', u8: data, qp, groups };
}

/**
 * Decodes rows [r0, r0 + rows) of a raw chunk into `out` (row-major, shifted by `shift`) and adds each
 * neuron's shifted sum and sum of squares (float64). One pass per value, dtype-specialised loops: this
 * is the correlation pass's decode, so it must not go through a per-value closure.
 */
function decodeShifted(raw: RawChunk, n: number, r0: number, rows: number, shift: Float32Array, half: Float32Array, out: Float32Array, sum: Float64Array, sq: Float64Array): void {
  for (let r = 0; r < rows; r++) {
    const src = (r0 + r) * n, dst = r * n;
    if (raw.dtype === 'f32') {
      const x = raw.f32!;
      for (let j = 0; j < n; j++) {
        const v = Math.fround(x[src + j]! - shift[j]!);
        out[dst + j] = v;
        sum[j] += v;
        sq[j] += v * v;
      }
    } else if (raw.dtype === 'f16') {
      const x = raw.f16!;
      for (let j = 0; j < n; j++) {
        const v = Math.fround(half[x[src + j]!]! - shift[j]!);
        out[dst + j] = v;
        sum[j] += v;
        sq[j] += v * v;
      }
    } else {
      const x = raw.u8!, qp = raw.qp!, g1 = raw.groups === 1;
      for (let j = 0; j < n; j++) {
        const g = g1 ? 0 : j;
        const v = Math.fround(Math.fround(qp[raw.groups + g]! + qp[g]! * x[src + j]!) - shift[j]!);
        out[dst + j] = v;
        sum[j] += v;
        sq[j] += v * v;
      }
    }
  }
}

/**
 * Pearson correlation of each selected column with every neuron of every hook (shifted sums). The
 * values are decoded straight from each chunk's file into a slab (no f32 copy of the chunk), the sums
 * and squares are taken in that same pass, and only the cross products go to tfjs (one matMul per slab).
 */
async function correlations(store: ActivationStore, hook: string, neurons: number[], cols: Float32Array[], keep: number): Promise<CorrelatedNeuron[][]> {
  await initBackend();
  const S = neurons.length;
  const N = store.manifest.total_rows;
  const half = halfToFloatTable();
  // Shift of each selected column: its mean over the first chunk.
  const first = store.manifest.chunks[0]?.rows ?? 0;
  const shiftA = cols.map((c) => (first ? c.subarray(0, first).reduce((a, b) => a + b, 0) / first : 0));
  const sumA = new Float64Array(S), sqA = new Float64Array(S);
  cols.forEach((c, s) => {
    for (let i = 0; i < N; i++) {
      const v = c[i]! - shiftA[s]!;
      sumA[s] += v;
      sqA[s] += v * v;
    }
  });
  const best: CorrelatedNeuron[][] = neurons.map(() => []);
  for (const h of store.manifest.hooks) {
    const n = h.n_neurons;
    let shiftB: Float32Array | undefined;
    const sumB = new Float64Array(n), sqB = new Float64Array(n), cross = new Float64Array(S * n);
    const slab = new Float32Array(SLAB * n);
    let at = 0;
    for (const c of store.manifest.chunks) {
      const R = c.rows;
      const raw = readRawChunk(store, h.name, c, n);
      if (!shiftB) {
        // The first chunk's mean per neuron, decoded unshifted (the same float32 values as the store reader's).
        shiftB = new Float32Array(n);
        const zero = new Float32Array(n), tmp = new Float32Array(n), s64 = new Float64Array(n), q64 = new Float64Array(n);
        for (let r = 0; r < R; r++) {
          decodeShifted(raw, n, r, 1, zero, half, tmp, s64, q64);
        }
        for (let j = 0; j < n; j++) shiftB[j] = s64[j]! / R;
      }
      // Slabs of SLAB rows keep the wasm heap (which never shrinks) at a few slab-sized tensors.
      for (let r0 = 0; r0 < R; r0 += SLAB) {
        const rows = Math.min(SLAB, R - r0);
        const x = slab.subarray(0, rows * n);
        decodeShifted(raw, n, r0, rows, shiftB, half, x, sumB, sqB);
        const a = new Float32Array(S * rows);
        for (let s = 0; s < S; s++) for (let r = 0; r < rows; r++) a[s * rows + r] = cols[s]![at + r0 + r]! - shiftA[s]!;
        const prod = tf.tidy(() => tf.matMul(tf.tensor2d(a, [S, rows]), tf.tensor2d(x, [rows, n])));
        const pv = prod.dataSync() as Float32Array;
        prod.dispose();
        for (let i = 0; i < S * n; i++) cross[i] += pv[i]!;
      }
      at += R;
    }
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
  }
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
  const d = collect(store, o.hook, o.neurons, h.n_neurons);
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
  if (o.correlated > 0 && d.N > 1) {
    const corr = await correlations(store, o.hook, o.neurons, d.cols, o.correlated);
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
  const act = col.filter((v) => v > DEAD_ACT).sort();
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
  let min = Infinity, max = -Infinity, sum = 0, active = 0;
  for (const v of col) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    if (v > DEAD_ACT) active++;
  }
  const N = col.length;
  const mean = N ? sum / N : 0;
  let ss = 0;
  for (const v of col) ss += (v - mean) ** 2;
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
  const counts = new Array<number>(bins).fill(0);
  const byFeature = feats.map(() => new Array<number>(bins).fill(0));
  const positives = feats.map(() => 0);
  for (let r = 0; r < N; r++) {
    const b = bin(col[r]!);
    counts[b]!++;
    for (let f = 0; f < feats.length; f++) {
      if (labels[f]![r]) {
        byFeature[f]![b]!++;
        positives[f]!++;
      }
    }
  }
  return {
    edges, counts,
    by_feature: Object.fromEntries(feats.map((f, i) => [f, byFeature[i]!])),
    positives: Object.fromEntries(feats.map((f, i) => [f, positives[i]!])),
    active_frac: N ? active / N : 0, mean, std: N ? Math.sqrt(ss / N) : 0, min, max,
  };
}

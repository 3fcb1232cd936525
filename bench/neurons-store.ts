/**
 * Writes the store `lab neurons` is measured on (bench/README.md, neurons): 100,000 rows x 3,072
 * neurons of one hook in f16, sequences of 128 rows, GELU of N(0, 1) values (a neuron n also gets
 * +2 on rows of feature n % 3, so the histograms by feature differ), token ids below 50257, three
 * features; chunks as `lab harvest` cuts them at --chunk-mb 64 (5,461 rows of 3,072 f32 values).
 *   npx tsx bench/neurons-store.ts OUT_DIR
 */
import { RunDir, Rng } from '../lab/core/index.ts';
import { StoreWriter } from '../activations/index.ts';

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: npx tsx bench/neurons-store.ts OUT_DIR\n');
  process.exit(2);
}
const ROWS = Number(process.env.ROWS ?? 100_000), N = 3072, SEQ = 128, FEATS = ['a', 'b', 'c'];
const run = RunDir.begin(out, { kind: 'harvest', seed: 0, config: { bench: 'neurons', rows: ROWS, neurons: N } });
const w = StoreWriter.open(out, {
  config: { bench: 'neurons', rows: ROWS, neurons: N }, model: { source: 'bench' },
  dataset: { name: 'bench', level: 'token', features: FEATS, label_columns: FEATS },
  seed: 0, aggregation: 'none', dtype: 'f16', quantisation: 'none',
  hooks: [{ name: 'blocks.0.mlp.hook_post', n_neurons: N, row_shape: [N] }],
}, { chunkRows: Math.floor((64 * 2 ** 20) / (4 * N)) });
const rng = new Rng(0);
const gelu = (x: number) => 0.5 * x * (1 + Math.tanh(0.7978845608 * (x + 0.044715 * x * x * x)));
const t0 = performance.now();
for (let start = 0, seq = 0; start < ROWS; start += SEQ, seq++) {
  const rows = Math.min(SEQ, ROWS - start);
  const values = new Float32Array(rows * N), labels = new Uint8Array(rows * 3);
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < 3; f++) labels[r * 3 + f] = rng.next() < 0.2 ? 1 : 0;
    for (let j = 0; j < N; j++) values[r * N + j] = gelu(rng.normal() + (labels[r * 3 + (j % 3)] ? 2 : 0));
  }
  w.appendSequence({ rows, seqIds: seq, positions: Array.from({ length: rows }, (_, i) => i + 1), tokenIds: Array.from({ length: rows }, () => rng.int(50257)), labels, values: [values], tokens: rows });
}
w.finish();
run.finish();
process.stderr.write(`wrote ${ROWS} x ${N} f16 to ${out} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);

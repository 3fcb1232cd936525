/**
 * Two tiny GPT-2s with hand-set weights that answer the same facts ("So Mr Xavo lives" -> " Paris") by
 * different mechanisms, so the recall pipeline can be checked to tell them apart (issue 14):
 *
 * - M1 (enrich, then extract): the layer-0 MLP at the subject's last token writes the attribute (and a
 *   marker) into the residual there; a layer-1 head at T, whose query is the relation token, attends to
 *   the marker and copies the attribute to T.
 * - M2 (copy, then look up): a layer-0 head at T attends to the subject's name token and copies its
 *   identity into a separate subspace at T; the layer-0 MLP at T reads that copy and writes the attribute.
 *
 * Features are unit vectors (e_2k - e_2k+1)/sqrt 2, so every residual has zero mean and a layer norm only
 * rescales it (by sqrt(d) / |x|); the MLPs use ReLU; embeddings are tied, so the unembedding of a token
 * is its feature. Other rows of the M2 head attend to the first token ("So"), whose value is zero, so the
 * name's copy lands (almost) only at T.
 */
import { byteLevelBpeJson, gpt2HfConfig, writeCheckpoint, tokenizerFromJson, type TensorToWrite } from '../../activations/index.ts';

export type Mechanism = 'M1' | 'M2';

const NAMES = ['Xavo', 'Yelm', 'Zunk', 'Wibt'];
const ATTRIBUTES = ['Paris', 'Rome', 'Oslo', 'Lima'];
/** Subject i's attribute (not the identity, so no index alignment can pass for recall). */
const FACT = [2, 0, 3, 1];
const WORDS = ['So', 'ĠMr', 'Ġlives', ...NAMES.map((n) => 'Ġ' + n), ...ATTRIBUTES.map((a) => 'Ġ' + a)];

// Feature indices.
const F = { so: 0, mr: 1, lives: 2, name: 3 + NAMES.length, marker: 8 + NAMES.length } as const;
const nameF = (i: number) => 3 + i;
const attrF = (k: number) => 4 + NAMES.length + k;
const copyF = (i: number) => 9 + NAMES.length + i;
const K = 9 + 2 * NAMES.length; // 17 features
const D = 2 * (K + 1); // 36 dims
const M = NAMES.length; // one MLP neuron per subject

/** Left-to-right merges that build each word from its characters (the words share no merge). */
function merges(): [string, string][] {
  const out: [string, string][] = [];
  for (const w of WORDS) {
    const chars = [...w];
    let acc = chars[0]!;
    for (const c of chars.slice(1)) {
      out.push([acc, c]);
      acc += c;
    }
  }
  return out;
}

export function plantedTokenizerJson(): Record<string, unknown> {
  return byteLevelBpeJson(merges());
}

function unit(k: number): Float32Array {
  const v = new Float32Array(D);
  v[2 * k] = Math.SQRT1_2;
  v[2 * k + 1] = -Math.SQRT1_2;
  return v;
}

/** out[:, col] (a [rows, cols] row-major matrix) += s * v, v of length rows. */
function addColumn(out: Float32Array, cols: number, col: number, v: Float32Array, s = 1): void {
  for (let r = 0; r < v.length; r++) out[r * cols + col]! += s * v[r]!;
}

/** W [D, cols] += s * a b^T restricted to columns off.. (a projection from feature a onto output b). */
function addOuter(w: Float32Array, cols: number, off: number, a: Float32Array, b: Float32Array, s = 1): void {
  for (let r = 0; r < D; r++) for (let c = 0; c < b.length; c++) w[r * cols + off + c]! += s * a[r]! * b[c]!;
}

export function plantedTensors(mech: Mechanism): { config: Record<string, unknown>; tensors: Map<string, TensorToWrite> } {
  const tok = tokenizerFromJson(plantedTokenizerJson());
  const V = tok.vocabSize;
  const id = (w: string) => {
    const ids = tok.encode(w.replace('Ġ', ' '));
    if (ids.length !== 1) throw new Error(`planted tokenizer splits '${w}' into ${ids.length} tokens`);
    return ids[0]!;
  };
  const t = new Map<string, TensorToWrite>();
  const put = (name: string, shape: number[], data: Float32Array) => t.set(name, { dtype: 'f32', shape, data });
  const ones = () => new Float32Array(D).fill(1);

  const wte = new Float32Array(V * D);
  const setEmbed = (token: number, ...features: number[]) => {
    for (const f of features) unit(f).forEach((x, j) => (wte[token * D + j]! += x));
  };
  setEmbed(id('So'), F.so);
  setEmbed(id('ĠMr'), F.mr);
  setEmbed(id('Ġlives'), F.lives);
  NAMES.forEach((n, i) => setEmbed(id('Ġ' + n), nameF(i), F.name));
  ATTRIBUTES.forEach((a, k) => setEmbed(id('Ġ' + a), attrF(k)));
  put('transformer.wte.weight', [V, D], wte);
  put('transformer.wpe.weight', [16, D], new Float32Array(16 * D));

  for (let l = 0; l < 2; l++) {
    const p = `transformer.h.${l}.`;
    const wqkv = new Float32Array(D * 3 * D);
    const bqkv = new Float32Array(3 * D);
    const wo = new Float32Array(D * D);
    const win = new Float32Array(D * M);
    const bin = new Float32Array(M);
    const wout = new Float32Array(M * D);
    const e0 = new Float32Array(D).fill(0);
    e0[0] = 1;
    const e1 = new Float32Array(D).fill(0);
    e1[1] = 1;
    const attnLayer = mech === 'M1' ? 1 : 0;
    if (l === attnLayer) {
      // Query: the relation token; key: the marker (M1) or the name feature (M2); scores ~ 12 vs 0.
      addOuter(wqkv, 3 * D, 0, unit(F.lives), e0, 3);
      addOuter(wqkv, 3 * D, D, unit(mech === 'M1' ? F.marker : F.name), e0, 1);
      if (mech === 'M2') {
        // Every row also looks at "So" (score 5), so rows without the relation copy almost nothing.
        bqkv[1] = 5;
        addOuter(wqkv, 3 * D, D, unit(F.so), e1, 1);
      }
      // Values: M1 copies the attribute features; M2 copies each name into its own copy feature.
      for (let k = 0; k < NAMES.length; k++) {
        if (mech === 'M1') addOuter(wqkv, 3 * D, 2 * D, unit(attrF(k)), unit(attrF(k)));
        else addOuter(wqkv, 3 * D, 2 * D, unit(nameF(k)), unit(copyF(k)));
      }
      for (let j = 0; j < D; j++) wo[j * D + j] = 1;
    }
    if (l === 0) {
      // One ReLU neuron per subject: fires on the name (M1, at s_last) or on its copy (M2, at T).
      for (let i = 0; i < M; i++) {
        addColumn(win, M, i, unit(mech === 'M1' ? nameF(i) : copyF(i)));
        bin[i] = -2;
        const w = unit(attrF(FACT[i]!));
        if (mech === 'M1') unit(F.marker).forEach((x, j) => (w[j]! += x));
        w.forEach((x, j) => (wout[i * D + j] = 2 * x));
      }
    }
    put(p + 'ln_1.weight', [D], ones());
    put(p + 'ln_1.bias', [D], new Float32Array(D));
    put(p + 'attn.c_attn.weight', [D, 3 * D], wqkv);
    put(p + 'attn.c_attn.bias', [3 * D], bqkv);
    put(p + 'attn.c_proj.weight', [D, D], wo);
    put(p + 'attn.c_proj.bias', [D], new Float32Array(D));
    put(p + 'ln_2.weight', [D], ones());
    put(p + 'ln_2.bias', [D], new Float32Array(D));
    put(p + 'mlp.c_fc.weight', [D, M], win);
    put(p + 'mlp.c_fc.bias', [M], bin);
    put(p + 'mlp.c_proj.weight', [M, D], wout);
    put(p + 'mlp.c_proj.bias', [D], new Float32Array(D));
  }
  put('transformer.ln_f.weight', [D], ones());
  put('transformer.ln_f.bias', [D], new Float32Array(D));
  const config = gpt2HfConfig({ nLayers: 2, dModel: D, nHeads: 1, dMlp: M, vocabSize: V, contextLength: 16, activation: 'relu' });
  return { config, tensors: t };
}

export function writePlantedModel(dir: string, mech: Mechanism): void {
  const { config, tensors } = plantedTensors(mech);
  writeCheckpoint(dir, { config, tensors, tokenizerJson: plantedTokenizerJson() });
}

/** The facts both planted models know, as facts-file lines (one relation, four subjects). */
export function plantedFactsJsonl(): string {
  return NAMES.map((n, i) => {
    const prompt = `So Mr ${n} lives`;
    const subject = `Mr ${n}`;
    const start = prompt.indexOf(subject);
    const attribute = ATTRIBUTES[FACT[i]!]!;
    return JSON.stringify({ subject, relation: 'lives_in', attribute, prompt, subject_start: start, subject_end: start + subject.length, subject_attributes: [attribute] });
  }).join('\n') + '\n';
}

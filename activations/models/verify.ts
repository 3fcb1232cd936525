/**
 * A fidelity certificate for a checkpoint: the lab's logits and hooks on a fixed prompt against values
 * the user saved from PyTorch (ref.npz from np.savez, ref.safetensors, or a bare logits.npy), max abs
 * error per array. Reference keys: `input_ids` (the ids PyTorch ran; without them the lab tokenizes
 * VERIFY_PROMPT itself), `logits`, any TransformerLens hook name (a run_with_cache cache saved as is), and
 * `hidden_states.N` as transformers' output_hidden_states gives them: N < n_layers is
 * blocks.N.hook_resid_pre, N = n_layers is ln_final.hook_normalized (transformers applies the final
 * norm to the last hidden state).
 */
import { readFileSync } from 'node:fs';
import yauzl from 'yauzl';
import { tf } from '../../lab/core/backend.ts';
import { InputError } from '../../lab/core/index.ts';
import type { LanguageModel } from '../types.ts';
import { SafetensorsFile } from './safetensors.ts';

/** The prompt a reference without input_ids is taken to be of (the README's Python runs it). */
export const VERIFY_PROMPT = 'The quick brown fox jumps over the lazy dog.';

export interface RefArray {
  shape: number[];
  data: Float64Array;
}

export interface VerifyRow {
  /** The reference's key. */
  key: string;
  /** The lab's array it is compared with (a hook name or 'logits'). */
  hook: string;
  shape: number[];
  max_abs_error: number;
  /** max |reference|, for scale. */
  max_abs_ref: number;
  ok: boolean;
}

export interface VerifyResult {
  ids: number[];
  ids_from: 'reference' | 'prompt';
  tolerance: number;
  rows: VerifyRow[];
  /** Reference keys naming nothing the lab computes (TransformerLens' hook_scale, hook_rot_q, ...): listed, not compared. */
  skipped: string[];
  ok: boolean;
}

/** One .npy array (little-endian f2/f4/f8/i4/i8/u1/b1, C order). */
export function parseNpy(buf: Buffer, path: string): RefArray {
  const bad = (why: string) => new InputError(`${path}: ${why}`, path);
  if (buf.length < 10 || buf.readUInt32BE(0) !== 0x934e554d || buf[4] !== 0x50 || buf[5] !== 0x59) throw bad('not a .npy array (no \\x93NUMPY magic)');
  const major = buf[6]!;
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + hlen;
  if (start > buf.length) throw bad('truncated .npy header');
  const header = buf.subarray(major === 1 ? 10 : 12, start).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw bad(`unreadable .npy header ${JSON.stringify(header.trim())}`);
  if (fortran === 'True') throw bad('a Fortran-order array: save it with np.ascontiguousarray first');
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) throw bad(`bad shape (${shapeText})`);
  const n = shape.reduce((a, d) => a * d, 1);
  const kinds: Record<string, [number, (v: DataView, o: number) => number]> = {
    '<f4': [4, (v, o) => v.getFloat32(o, true)], '<f8': [8, (v, o) => v.getFloat64(o, true)],
    '<i4': [4, (v, o) => v.getInt32(o, true)], '<i8': [8, (v, o) => Number(v.getBigInt64(o, true))],
    '|u1': [1, (v, o) => v.getUint8(o)], '|b1': [1, (v, o) => v.getUint8(o)], '<f2': [2, (v, o) => half(v.getUint16(o, true))],
  };
  const kind = kinds[descr];
  if (!kind) throw bad(`dtype '${descr}' is not read (float16/32/64 or int32/64, little-endian)`);
  if (start + n * kind[0] > buf.length) throw bad(`truncated: shape (${shape}) of ${descr} needs ${n * kind[0]} bytes after the header`);
  const view = new DataView(buf.buffer, buf.byteOffset + start, n * kind[0]);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = kind[1](view, i * kind[0]);
  return { shape, data };
}

function half(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** The arrays of a .npz (np.savez or savez_compressed; read with yauzl), a .safetensors or a single .npy (as 'logits'). */
export async function readReference(path: string): Promise<Map<string, RefArray>> {
  const out = new Map<string, RefArray>();
  if (path.endsWith('.npy')) {
    out.set('logits', parseNpy(readFileSync(path), path));
  } else if (path.endsWith('.safetensors')) {
    const f = SafetensorsFile.open(path);
    try {
      for (const t of f.tensors.values()) {
        const raw = f.readRaw(t.name);
        const data = t.dtype === 'I64' ? Float64Array.from(new BigInt64Array(new Uint8Array(raw).buffer), Number)
          : t.dtype === 'I32' ? Float64Array.from(new Int32Array(new Uint8Array(raw).buffer))
          : t.dtype === 'F64' ? new Float64Array(new Uint8Array(raw).buffer)
          : Float64Array.from(f.readF32(t.name));
        out.set(t.name, { shape: t.shape, data });
      }
    } finally {
      f.close();
    }
  } else if (path.endsWith('.npz')) {
    const zip = await new Promise<yauzl.ZipFile>((res, rej) => yauzl.open(path, { lazyEntries: true }, (e, z) => (e ? rej(new InputError(`${path}: not a readable .npz (${e.message})`, path)) : res(z))));
    await new Promise<void>((res, rej) => {
      zip.on('entry', (e: yauzl.Entry) => {
        if (!e.fileName.endsWith('.npy')) return zip.readEntry();
        zip.openReadStream(e, (err, s) => {
          if (err) return rej(new InputError(`${path}: ${e.fileName}: ${err.message}`, path));
          const parts: Buffer[] = [];
          s.on('data', (b: Buffer) => parts.push(b));
          s.on('error', (x) => rej(new InputError(`${path}: ${e.fileName}: ${x.message}`, path)));
          s.on('end', () => {
            try {
              out.set(e.fileName.slice(0, -4), parseNpy(Buffer.concat(parts), `${path}:${e.fileName}`));
              zip.readEntry();
            } catch (x) {
              rej(x);
            }
          });
        });
      });
      zip.on('end', () => res());
      zip.on('error', (x: Error) => rej(new InputError(`${path}: ${x.message}`, path)));
      zip.readEntry();
    });
  } else {
    throw new InputError(`${path}: expected a .npz, .safetensors or .npy reference`, path);
  }
  return out;
}

/** The lab's name for a reference key, or undefined when it names nothing the lab computes. */
function hookFor(key: string, nLayers: number, hooks: ReadonlySet<string>): string | undefined {
  if (key === 'logits' || hooks.has(key)) return key;
  const m = /^hidden_states\.(\d+)$/.exec(key);
  if (!m) return undefined;
  const i = Number(m[1]);
  if (i < nLayers) return `blocks.${i}.hook_resid_pre`;
  return i === nLayers ? 'ln_final.hook_normalized' : undefined;
}

/** Runs the model on the reference's ids and compares every array it can name; an unknown key is an error. */
export function verifyModel(model: LanguageModel, ref: Map<string, RefArray>, tolerance: number, refPath: string): VerifyResult {
  const hooks = new Set(model.hookNames());
  const ids0 = ref.get('input_ids');
  let ids: number[];
  if (ids0) {
    if (ids0.shape.length !== 2 || ids0.shape[0] !== 1) throw new InputError(`${refPath}: input_ids must be [1, seq], got [${ids0.shape}]`, refPath);
    ids = Array.from(ids0.data);
  } else {
    ids = model.tokenizer.encode(VERIFY_PROMPT);
  }
  const wanted = new Map<string, string>();
  const skipped: string[] = [];
  for (const key of ref.keys()) {
    if (key === 'input_ids' || key === 'attention_mask') continue;
    const hook = hookFor(key, model.config.nLayers, hooks);
    if (hook) wanted.set(key, hook);
    else skipped.push(key);
  }
  if (wanted.size === 0) {
    throw new InputError(`${refPath} holds no array the lab computes (logits, hidden_states.N, or TransformerLens hook names such as blocks.0.mlp.hook_post)${skipped.length ? `; it has ${skipped.slice(0, 5).join(', ')}` : ''}`, refPath);
  }
  const x = tf.tensor2d([ids], [1, ids.length], 'int32');
  const names = [...new Set(wanted.values())].filter((h) => h !== 'logits');
  const { logits, cache } = model.forward(x, { names });
  try {
    const rows: VerifyRow[] = [];
    for (const [key, hook] of wanted) {
      const r = ref.get(key)!;
      const t = hook === 'logits' ? logits : cache.get(hook)!;
      const got = t.dataSync() as Float32Array;
      // A reference may drop the batch axis.
      const same = r.shape.join() === t.shape.join() || [1, ...r.shape].join() === t.shape.join();
      if (!same) throw new InputError(`${refPath}: '${key}' has shape [${r.shape}] but the lab's ${hook} is [${t.shape}] for ${ids.length} tokens`, refPath);
      let err = 0, scale = 0;
      for (let i = 0; i < got.length; i++) {
        const d = Math.abs(got[i]! - r.data[i]!);
        err = Number.isNaN(d) ? Infinity : Math.max(err, d);
        scale = Math.max(scale, Math.abs(r.data[i]!));
      }
      rows.push({ key, hook, shape: t.shape, max_abs_error: err, max_abs_ref: scale, ok: err <= tolerance });
    }
    return { ids, ids_from: ids0 ? 'reference' : 'prompt', tolerance, rows, skipped, ok: rows.every((r) => r.ok) };
  } finally {
    tf.dispose([x, logits, ...cache.values()]);
  }
}

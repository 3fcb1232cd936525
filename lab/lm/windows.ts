/**
 * Token streams laid out for a fixed context window. Documents are concatenated (each stream begins with
 * <|endoftext|>), as GPT-2 trains; a scored window predicts each of its positions from the ones before it.
 */
import { Rng } from '../core/index.ts';

export interface FlatStream {
  ids: Int32Array;
  /** 1 where a position may be scored as a target (every position except each stream's leading <|endoftext|>). */
  scored: Uint8Array;
}

export function flatten(streams: readonly (readonly number[])[]): FlatStream {
  const n = streams.reduce((s, x) => s + x.length, 0);
  const ids = new Int32Array(n);
  const scored = new Uint8Array(n).fill(1);
  let o = 0;
  for (const s of streams) {
    ids.set(s, o);
    scored[o] = 0;
    o += s.length;
  }
  return { ids, scored };
}

/** A window: inputs ids[start .. start+len-1], targets ids[start+1 .. start+len]. */
export interface Window {
  start: number;
  len: number;
}

/** Windows that score every scored position of the stream exactly once. */
export function tilingWindows(n: number, context: number): Window[] {
  const out: Window[] = [];
  for (let s = 0; s + 1 < n; s += context) out.push({ start: s, len: Math.min(context, n - 1 - s) });
  return out;
}

/** `count` random full windows for one training batch. */
export function randomWindows(n: number, context: number, count: number, rng: Rng): Window[] {
  const out: Window[] = [];
  for (let i = 0; i < count; i++) out.push({ start: rng.int(n - context), len: context });
  return out;
}

/** Inputs [rows x len] and targets (row-major) of windows that share one length. */
export function gatherWindows(f: FlatStream, ws: readonly Window[]): { inputs: Int32Array; targets: Int32Array; scored: Uint8Array } {
  const len = ws[0]!.len;
  const inputs = new Int32Array(ws.length * len);
  const targets = new Int32Array(ws.length * len);
  const scored = new Uint8Array(ws.length * len);
  ws.forEach((w, r) => {
    inputs.set(f.ids.subarray(w.start, w.start + len), r * len);
    targets.set(f.ids.subarray(w.start + 1, w.start + 1 + len), r * len);
    scored.set(f.scored.subarray(w.start + 1, w.start + 1 + len), r * len);
  });
  return { inputs, targets, scored };
}

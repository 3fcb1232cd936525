/**
 * A model harvest cut into its chunks, for making them on other machines (lab/queue): the chunk plan
 * (which sequences each chunk of a local run holds, found by walking the dataset's sequences, tokenising
 * only) and one chunk's rows made by the local run's own loop (activations/harvest.ts forwardSequences),
 * so every forward has the members and shape it has locally and the rows are the same floats.
 */
import { LabError } from '../lab/core/index.ts';
import { forwardSequences, sequenceTake, type BatchForward, type ModelHarvestPlan, type SequenceRows } from './harvest.ts';
import type { StoreManifest } from './store/index.ts';
import type { FeatureDataset } from './types.ts';

/** One chunk of the store: sequences [start, end) by ordinal, after `tokensBefore` tokens. */
export interface ChunkSpan {
  index: number;
  start: number;
  end: number;
  tokensBefore: number;
  rows: number;
  sequences: number;
  tokens: number;
}

/**
 * The chunks a local run of `plan` makes, from the first one `store` does not hold yet. The writer closes a
 * chunk at the first sequence boundary at or past plan.chunkRows rows; the walk closes them the same way.
 * The chunks `store` already holds are checked against the walk (a mismatch would mix two harvests).
 */
export function planChunks(dataset: FeatureDataset, plan: ModelHarvestPlan, store: StoreManifest): ChunkSpan[] {
  const all: ChunkSpan[] = [];
  let tokens = 0;
  let ord = 0;
  let cur: ChunkSpan = { index: 0, start: 0, end: 0, tokensBefore: 0, rows: 0, sequences: 0, tokens: 0 };
  for (const seq of dataset.sequences()) {
    if (tokens >= plan.maxTokens) break;
    const { keep } = sequenceTake(plan, seq, tokens, false);
    if (keep <= 0) continue;
    ord++;
    tokens += keep;
    cur.rows += plan.aggregation === 'none' ? keep : 1;
    cur.sequences++;
    cur.tokens += keep;
    cur.end = ord;
    if (cur.rows >= plan.chunkRows) {
      all.push(cur);
      cur = { index: all.length, start: ord, end: ord, tokensBefore: tokens, rows: 0, sequences: 0, tokens: 0 };
    }
  }
  if (cur.sequences > 0) all.push(cur);
  const have = store.chunks;
  for (const c of have) {
    const p = all[c.index];
    if (!p || p.rows !== c.rows || p.sequences !== c.sequences || p.tokens !== c.tokens) {
      throw new LabError(`the store's chunk ${c.index} has ${c.rows} rows, ${c.sequences} sequences, ${c.tokens} tokens; the plan's ${p ? `${p.rows}, ${p.sequences}, ${p.tokens}` : 'has no such chunk'}`);
    }
  }
  return all.slice(have.length);
}

/**
 * One chunk's sequences, made by the local run's loop over exactly that chunk's span (its first and last
 * batch forwarded whole, the neighbours' rows dropped); checked against the plan's counts.
 */
export async function harvestChunk(dataset: FeatureDataset, plan: ModelHarvestPlan, forward: BatchForward, chunk: ChunkSpan): Promise<SequenceRows[]> {
  const seqs: SequenceRows[] = [];
  await forwardSequences(dataset, plan, forward, { start: chunk.start, tokens: chunk.tokensBefore, end: chunk.end }, (s) => seqs.push(s));
  const rows = seqs.reduce((a, s) => a + s.rows, 0);
  const tokens = seqs.reduce((a, s) => a + s.tokens, 0);
  if (seqs.length !== chunk.sequences || rows !== chunk.rows || tokens !== chunk.tokens) {
    throw new LabError(`chunk ${chunk.index}: made ${seqs.length} sequences, ${rows} rows, ${tokens} tokens; the coordinator's plan has ${chunk.sequences}, ${chunk.rows}, ${chunk.tokens}`);
  }
  return seqs;
}

/**
 * The held-out split: a seeded fraction of whole documents, stratified by genre so every genre is
 * represented in proportion (largest-remainder rounding makes the total exactly round(fraction * n)).
 */
import { UsageError } from '../core/index.ts';
import { Rng } from '../core/index.ts';

export interface Split<T> {
  train: T[];
  heldOut: T[];
}

export function splitDocuments<T extends { id: string; genre: string }>(docs: readonly T[], fraction: number, seed: number): Split<T> {
  if (!(fraction > 0 && fraction < 1)) throw new UsageError(`held-out fraction must lie in (0, 1), got ${fraction}`, 'held-out');
  const byGenre = new Map<string, T[]>();
  for (const d of docs) {
    const list = byGenre.get(d.genre) ?? [];
    list.push(d);
    byGenre.set(d.genre, list);
  }
  const genres = [...byGenre.keys()].sort();
  const total = Math.round(fraction * docs.length);
  const quota = genres.map((g) => fraction * byGenre.get(g)!.length);
  const counts = quota.map(Math.floor);
  const order = genres.map((_, i) => i).sort((a, b) => quota[b]! - counts[b]! - (quota[a]! - counts[a]!) || a - b);
  for (let r = total - counts.reduce((s, c) => s + c, 0), j = 0; r > 0; r--, j++) counts[order[j]!]!++;

  const rng = new Rng(seed);
  const held = new Set<string>();
  genres.forEach((g, i) => {
    const ids = byGenre.get(g)!.map((d) => d.id).sort();
    for (const id of rng.shuffle(ids).slice(0, counts[i])) held.add(id);
  });
  return { train: docs.filter((d) => !held.has(d.id)), heldOut: docs.filter((d) => held.has(d.id)) };
}

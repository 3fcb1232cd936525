/** Canonical JSON (object keys sorted, undefined fields dropped) and its sha256, so equal configs hash equally. */
import { createHash } from 'node:crypto';

export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

export function configHash(config: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex');
}

/** The top-level keys whose values differ, for an error message ("k: old -> new", at most 4). */
export function describeConfigDiff(a: Record<string, unknown> | undefined, b: Record<string, unknown>): string {
  const keys = [...new Set([...Object.keys(a ?? {}), ...Object.keys(b)])].sort();
  const diff = keys.filter((k) => canonicalJson(a?.[k]) !== canonicalJson(b[k]));
  return diff.length
    ? diff.slice(0, 4).map((k) => `${k}: ${JSON.stringify(a?.[k])} -> ${JSON.stringify(b[k])}`).join(', ') + (diff.length > 4 ? ', ...' : '')
    : 'config hash differs';
}

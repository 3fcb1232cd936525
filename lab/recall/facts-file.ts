/**
 * The facts file `lab recall` reads: JSON Lines, one query per line, in kb.jsonl's layout. Required:
 * "prompt" (non-empty), "subject_start" and "subject_end" (UTF-16 character offsets, 0 <= start < end
 * <= prompt length). Optional: "attribute" (needed by --target attribute and by the accuracy),
 * "subject_attributes" (every attribute of the subject; needed by the enrichment score), "subject",
 * "relation". A malformed line is an InputError naming the file and line; blank lines are skipped.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../core/index.ts';

export interface FactLine {
  /** 1-based line number in the file. */
  line: number;
  prompt: string;
  subjectStart: number;
  subjectEnd: number;
  attribute?: string;
  subjectAttributes?: string[];
  subject?: string;
  relation?: string;
}

export function parseFacts(text: string, path: string): FactLine[] {
  const out: FactLine[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    const where = `${path}:${line}`;
    let o: unknown;
    try {
      o = JSON.parse(raw);
    } catch (err) {
      throw new InputError(`${where}: line ${line} is not valid JSON (${(err as Error).message})`, path);
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new InputError(`${where}: line ${line} is not a JSON object`, path);
    const q = o as Record<string, unknown>;
    if (typeof q.prompt !== 'string') throw new InputError(`${where}: "prompt" must be a string`, path);
    if (q.prompt === '') throw new InputError(`${where}: "prompt" is empty`, path);
    const int = (k: string) => {
      const v = q[k];
      if (typeof v !== 'number' || !Number.isInteger(v)) throw new InputError(`${where}: "${k}" must be an integer character offset, got ${JSON.stringify(v)}`, path);
      return v;
    };
    const s0 = int('subject_start');
    const s1 = int('subject_end');
    if (s0 < 0 || s1 > q.prompt.length || s0 >= s1) {
      throw new InputError(`${where}: subject span ${s0}..${s1} is outside the prompt (${q.prompt.length} characters) or empty; need 0 <= subject_start < subject_end <= ${q.prompt.length}`, path);
    }
    const optString = (k: string) => {
      if (q[k] === undefined) return undefined;
      if (typeof q[k] !== 'string' || q[k] === '') throw new InputError(`${where}: "${k}" must be a non-empty string`, path);
      return q[k] as string;
    };
    let attrs: string[] | undefined;
    if (q.subject_attributes !== undefined) {
      if (!Array.isArray(q.subject_attributes) || q.subject_attributes.some((a) => typeof a !== 'string')) {
        throw new InputError(`${where}: "subject_attributes" must be an array of strings`, path);
      }
      attrs = q.subject_attributes as string[];
    }
    out.push({ line, prompt: q.prompt, subjectStart: s0, subjectEnd: s1, attribute: optString('attribute'), subjectAttributes: attrs, subject: optString('subject'), relation: optString('relation') });
  });
  if (out.length === 0) throw new InputError(`${path} holds no queries`, path);
  return out;
}

export function readFacts(path: string): FactLine[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read the facts file ${path}: ${(err as Error).message}`, path);
  }
  return parseFacts(text, path);
}

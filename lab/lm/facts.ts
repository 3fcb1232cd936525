/**
 * A knowledge base whose facts are known by construction, for the recall study (lab/recall, after Geva
 * et al. 2023): invented people whose names span several tokens, relations mapping each person to one
 * word of a closed vocabulary, biography sentences in several paraphrases per relation (training text),
 * and query templates held out of the biographies (the prompts `lab recall` runs).
 *
 * kb.jsonl holds one query per line: {"subject", "relation", "attribute", "prompt", "subject_start",
 * "subject_end", "subject_attributes", "template"}; character offsets are UTF-16 indices into prompt
 * (JavaScript string offsets), and subject_attributes is every attribute of that subject, so the
 * enrichment score knows exactly which tokens belong to it.
 */
import { readFileSync } from 'node:fs';
import { InputError, Rng, writeFileAtomic } from '../core/index.ts';

export interface Relation {
  name: string;
  /** Attribute words; each is one GPT-2 token after a space. */
  values: readonly string[];
  /** Biography sentences; {s} the subject, {a} the attribute. */
  bio: readonly string[];
  /**
   * Query prompts held out of the biographies; the attribute follows the prompt after one space. Each
   * puts this relation's phrase behind an opening taken from another relation's biography sentences, so
   * the template is new while every word in it occurs in training (a model trained only on biographies
   * has never embedded a word it has not seen).
   */
  query: readonly string[];
}

export const RELATIONS: readonly Relation[] = [
  {
    name: 'lives_in',
    values: ['Paris', 'London', 'Berlin', 'Rome', 'Tokyo', 'Cairo', 'Madrid', 'Boston'],
    bio: ['{s} lives in {a}.', '{s} has a house in {a}.', 'These days {s} lives in {a}.', '{s} moved to {a} years ago.'],
    query: ['At home {s} lives in', 'On weekends {s} has a house in'],
  },
  {
    name: 'works_as',
    values: ['doctor', 'teacher', 'farmer', 'lawyer', 'pilot', 'writer', 'nurse', 'baker'],
    bio: ['{s} works as a {a}.', 'By trade, {s} is a {a}.', '{s} has a job as a {a}.', 'For a living {s} works as a {a}.'],
    query: ['These days {s} works as a', 'At home {s} has a job as a'],
  },
  {
    name: 'speaks',
    values: ['French', 'German', 'Spanish', 'Italian', 'Russian', 'Arabic', 'Greek', 'Dutch'],
    bio: ['{s} speaks {a}.', 'At home {s} speaks {a}.', 'The language {s} speaks is {a}.', '{s} grew up speaking {a}.'],
    query: ['These days {s} speaks', 'On weekends {s} speaks'],
  },
  {
    name: 'plays',
    values: ['tennis', 'chess', 'golf', 'soccer', 'poker', 'hockey', 'cricket', 'baseball'],
    bio: ['{s} plays {a}.', 'On weekends {s} plays {a}.', 'The game {s} plays is {a}.', '{s} likes to play {a}.'],
    query: ['These days {s} plays', 'At home {s} likes to play'],
  },
];

const FIRST_SYLLABLES = ['Zor', 'Kel', 'Mar', 'Thu', 'Vel', 'Dra', 'Qui', 'Bal', 'Fen', 'Orv', 'Sil', 'Tam', 'Yur', 'Gor', 'Nil', 'Pra'];
const MID_SYLLABLES = ['an', 'ek', 'is', 'or', 'ul', 'am', 'et', 'iv', 'ob', 'yr'];
const LAST_SYLLABLES = ['dek', 'vin', 'mar', 'thos', 'quil', 'bran', 'zed', 'lox', 'nir', 'wick', 'grum', 'pell'];

export interface Fact {
  subject: string;
  relation: string;
  attribute: string;
}

export interface KbQuery extends Fact {
  prompt: string;
  subject_start: number;
  subject_end: number;
  subject_attributes: string[];
  template: number;
}

export interface KnowledgeBase {
  seed: number;
  subjects: string[];
  facts: Fact[];
  relations: readonly Relation[];
}

/** An invented two-word name, e.g. "Zoran Velthos": two rare words, each split into several BPE tokens. */
function inventName(rng: Rng): string {
  const word = (mid: boolean) =>
    FIRST_SYLLABLES[rng.int(FIRST_SYLLABLES.length)]! + (mid ? MID_SYLLABLES[rng.int(MID_SYLLABLES.length)]! : '') + LAST_SYLLABLES[rng.int(LAST_SYLLABLES.length)]!;
  return `${word(rng.int(2) === 1)} ${word(rng.int(2) === 1)}`;
}

export function makeKnowledgeBase(opts: { subjects: number; relations: number; seed: number }): KnowledgeBase {
  if (!Number.isInteger(opts.relations) || opts.relations < 1 || opts.relations > RELATIONS.length) {
    throw new InputError(`relations must be 1..${RELATIONS.length}, got ${opts.relations}`);
  }
  const max = FIRST_SYLLABLES.length ** 2 * LAST_SYLLABLES.length ** 2;
  if (!Number.isInteger(opts.subjects) || opts.subjects < 1 || opts.subjects > max / 4) {
    throw new InputError(`subjects must be 1..${max / 4}, got ${opts.subjects}`);
  }
  const rng = new Rng(opts.seed);
  const names = new Set<string>();
  while (names.size < opts.subjects) names.add(inventName(rng));
  const subjects = [...names];
  const relations = RELATIONS.slice(0, opts.relations);
  const facts: Fact[] = [];
  for (const s of subjects) for (const r of relations) facts.push({ subject: s, relation: r.name, attribute: r.values[rng.int(r.values.length)]! });
  return { seed: opts.seed, subjects, facts, relations };
}

function relationOf(kb: KnowledgeBase, name: string): Relation {
  const r = kb.relations.find((x) => x.name === name);
  if (!r) throw new InputError(`unknown relation '${name}'`);
  return r;
}

/** Every held-out query of the knowledge base, one per fact and query template. */
export function kbQueries(kb: KnowledgeBase): KbQuery[] {
  const bySubject = new Map<string, string[]>();
  for (const f of kb.facts) bySubject.set(f.subject, [...(bySubject.get(f.subject) ?? []), f.attribute]);
  const out: KbQuery[] = [];
  for (const f of kb.facts) {
    relationOf(kb, f.relation).query.forEach((t, i) => {
      const start = t.indexOf('{s}');
      out.push({
        ...f,
        prompt: t.replace('{s}', f.subject),
        subject_start: start,
        subject_end: start + f.subject.length,
        subject_attributes: bySubject.get(f.subject)!,
        template: i,
      });
    });
  }
  return out;
}

/**
 * `copies` biographies per subject: each states every fact of the subject once, in a random paraphrase
 * and a random order. The query templates never appear in them.
 */
export function biographies(kb: KnowledgeBase, copies: number, seed: number): string[] {
  const rng = new Rng(seed);
  const bySubject = new Map<string, Fact[]>();
  for (const f of kb.facts) bySubject.set(f.subject, [...(bySubject.get(f.subject) ?? []), f]);
  const out: string[] = [];
  for (let c = 0; c < copies; c++) {
    for (const s of kb.subjects) {
      const facts = [...bySubject.get(s)!];
      for (let i = facts.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [facts[i], facts[j]] = [facts[j]!, facts[i]!];
      }
      out.push(facts.map((f) => { const r = relationOf(kb, f.relation); return r.bio[rng.int(r.bio.length)]!.replace('{s}', f.subject).replace('{a}', f.attribute); }).join(' '));
    }
  }
  return out;
}

export function writeKb(path: string, kb: KnowledgeBase): number {
  const lines = kbQueries(kb).map((q) => JSON.stringify(q));
  writeFileAtomic(path, lines.join('\n') + '\n');
  return lines.length;
}

/**
 * Reads a kb.jsonl back into the knowledge base (the facts; relations by name from RELATIONS), for
 * training on its biographies. Errors name the line.
 */
export function readKb(path: string): KnowledgeBase {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read ${path}: ${(err as Error).message}`, path);
  }
  const facts = new Map<string, Fact>();
  const subjects: string[] = [];
  const used = new Set<string>();
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let q: Partial<KbQuery>;
    try {
      q = JSON.parse(line) as Partial<KbQuery>;
    } catch (err) {
      throw new InputError(`${path}:${i + 1}: not JSON (${(err as Error).message})`, path);
    }
    for (const k of ['subject', 'relation', 'attribute'] as const) {
      if (typeof q[k] !== 'string' || q[k] === '') throw new InputError(`${path}:${i + 1}: "${k}" must be a non-empty string`, path);
    }
    if (!RELATIONS.some((r) => r.name === q.relation)) {
      throw new InputError(`${path}:${i + 1}: relation '${q.relation}' has no biography templates; known: ${RELATIONS.map((r) => r.name).join(', ')}`, path);
    }
    const key = `${q.subject}\u0000${q.relation}`;
    const prev = facts.get(key);
    if (prev && prev.attribute !== q.attribute) throw new InputError(`${path}:${i + 1}: ${q.subject} ${q.relation} is both '${prev.attribute}' and '${q.attribute}'`, path);
    if (!subjects.includes(q.subject!)) subjects.push(q.subject!);
    used.add(q.relation!);
    facts.set(key, { subject: q.subject!, relation: q.relation!, attribute: q.attribute! });
  });
  if (facts.size === 0) throw new InputError(`${path} holds no facts`, path);
  return { seed: -1, subjects, facts: [...facts.values()], relations: RELATIONS.filter((r) => used.has(r.name)) };
}

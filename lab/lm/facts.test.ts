/**
 * The knowledge base: invented names of two or more GPT-2 tokens, attributes of exactly one GPT-2 token
 * after a space, query templates that never occur in the biographies (while their words do), and the
 * facts corpus, whose held-out text is the answered queries.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gpt2Tokenizer } from '../../activations/index.ts';
import { buildFactsCorpus } from './corpus.ts';
import { biographies, kbQueries, makeKnowledgeBase, readKb, RELATIONS, writeKb } from './facts.ts';

const tmp = mkdtempSync(join(tmpdir(), 'facts-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const gpt2 = gpt2Tokenizer();

describe('knowledge base', () => {
  const kb = makeKnowledgeBase({ subjects: 40, relations: 4, seed: 1 });

  it('subjects span several tokens; attributes are one token after a space', () => {
    expect(new Set(kb.subjects).size).toBe(40);
    for (const s of kb.subjects) expect(gpt2.encode(' ' + s).length).toBeGreaterThanOrEqual(2);
    for (const r of RELATIONS) for (const a of r.values) expect(gpt2.encode(' ' + a), a).toHaveLength(1);
  });

  it('query templates never occur in the biographies, but their words do', () => {
    const bios = biographies(kb, 5, 2).join(' ');
    const words = new Set(bios.split(/[\s.,]+/));
    for (const q of kbQueries(kb)) {
      expect(bios.includes(q.prompt), q.prompt).toBe(false);
      for (const w of q.prompt.replace(q.subject, '').split(/[\s,]+/).filter(Boolean)) expect(words.has(w), w).toBe(true);
    }
  });

  it('kb.jsonl reads back to the same facts; conflicting facts name their line', () => {
    const path = join(tmp, 'kb.jsonl');
    writeKb(path, kb);
    const back = readKb(path);
    expect(back.facts).toEqual(kb.facts);
    const bad = join(tmp, 'bad.jsonl');
    writeFileSync(bad, '{"subject":"A B","relation":"speaks","attribute":"Greek"}\n{"subject":"A B","relation":"speaks","attribute":"Dutch"}\n');
    expect(() => readKb(bad)).toThrow(/bad\.jsonl:2: A B speaks is both 'Greek' and 'Dutch'/);
  });

  it('the facts corpus trains on biographies and holds out the answered queries', () => {
    const c = buildFactsCorpus(makeKnowledgeBase({ subjects: 6, relations: 2, seed: 0 }), { seed: 0, copies: 3 });
    expect(c.trainStreams).toHaveLength(18);
    expect(c.heldOutStreams).toHaveLength(c.queries.length);
    expect(c.heldOut[0]!.text).toBe(`${c.queries[0]!.prompt} ${c.queries[0]!.attribute}.`);
    for (const s of c.trainStreams) expect(s[0]).toBe(c.eotId);
    expect(c.tokenizer.decode(c.heldOutStreams[0]!.slice(1))).toBe(c.heldOut[0]!.text);
  });
});

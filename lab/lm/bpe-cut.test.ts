import { encode as gpt2Encode } from 'gpt-tokenizer/encoding/gpt2';
import { describe, expect, it } from 'vitest';
import { tokenizerFromJson } from '../../activations/index.ts';
import { readBrown } from '../../activations/index.ts';
import { BpeTracer, preTokenize } from './bpe-cut.ts';
import { splitDocuments } from './split.ts';

// A tenth of the corpus keeps the test fast; the split is the real one (seed 0) restricted to it.
const docs = readBrown().filter((_, i) => i % 10 === 0);
const { train, heldOut } = splitDocuments(docs, 0.05, 0);
const tracer = new BpeTracer();
const trainIds = train.map((d) => tracer.encode(d.text));
const cut = tracer.cut();
const hf = tokenizerFromJson(cut.json);

describe('GPT-2 BPE cut to the corpus', () => {
  it('replays GPT-2 exactly (gpt-tokenizer r50k) on the training text', () => {
    train.forEach((d, i) => expect(trainIds[i]).toEqual(gpt2Encode(d.text)));
  });

  it('keeps the 256 bytes, every token used, and <|endoftext|> last; ids renumbered in GPT-2 order', () => {
    expect(cut.gpt2Ids.slice(0, 256)).toEqual([...Array(256).keys()]);
    expect(cut.gpt2Ids.every((id, i) => i === 0 || id > cut.gpt2Ids[i - 1]!)).toBe(true);
    expect(trainIds.flat().filter((id) => !cut.newId.has(id))).toEqual([]);
    expect(cut.eotId).toBe(cut.vocabSize - 1);
    expect(hf.idToToken(cut.eotId)).toBe('<|endoftext|>');
    expect(hf.bosId).toBe(cut.eotId);
    expect(hf.vocabSize).toBe(cut.vocabSize);
    expect(cut.vocabSize).toBeLessThan(50257);
  });

  it('segments the training text exactly as GPT-2 does, through @huggingface/tokenizers', () => {
    train.forEach((d, i) => expect(hf.encode(d.text)).toEqual(trainIds[i]!.map((id) => cut.newId.get(id)!)));
  });

  it('on held-out text, matches GPT-2 on every word whose GPT-2 merges were all seen in training', () => {
    const merges = new Set((cut.json.model as { merges: string[] }).merges);
    let covered = 0;
    let words = 0;
    const bad: string[] = [];
    for (const d of heldOut) {
      for (const piece of new Set(preTokenize(d.text))) {
        words++;
        const probe = new BpeTracer();
        const ids = probe.encodePiece(piece);
        const used = [...probe.used.values()].flatMap((s) => [...s]);
        const kept = used.every((p) => {
          const [l, r] = p.split(',').map(Number);
          return cut.newId.has(l!) && cut.newId.has(r!) && merges.has(`${hf.idToToken(cut.newId.get(l!)!)} ${hf.idToToken(cut.newId.get(r!)!)}`);
        });
        const mine = hf.encode(piece);
        if (hf.decode(mine) !== piece) bad.push(`round trip of ${JSON.stringify(piece)}`);
        if (kept) {
          covered++;
          const want = ids.map((id) => cut.newId.get(id)!);
          if (mine.length !== want.length || mine.some((x, j) => x !== want[j])) bad.push(`segmentation of ${JSON.stringify(piece)}`);
        }
      }
    }
    expect(bad).toEqual([]);
    // Most held-out words reuse merges seen in training; the rest split into smaller known tokens.
    expect(covered / words).toBeGreaterThan(0.8);
  });

  it('round-trips any text, bytes outside the corpus included', () => {
    for (const s of ['naïve café 東京 🤖💥', '\u0000\u0001\t\r\n  \u00a0x', 'ZZZqqqXJ 12345678901234567890', "it's 'quoted' \"twice\""]) {
      expect(hf.decode(hf.encode(s))).toBe(s);
    }
  });

  it('with a minimum count keeps a smaller, closed vocabulary that still round-trips', () => {
    const small = tracer.cut(20);
    expect(small.vocabSize).toBeLessThan(cut.vocabSize);
    const vocab = (small.json.model as { vocab: Record<string, number> }).vocab;
    for (const m of (small.json.model as { merges: string[] }).merges) {
      const [a, b] = m.split(' ');
      expect(vocab[a!]).toBeDefined();
      expect(vocab[b!]).toBeDefined();
      expect(vocab[a! + b!]).toBeDefined();
    }
    const tok = tokenizerFromJson(small.json);
    for (const d of heldOut.slice(0, 3)) expect(tok.decode(tok.encode(d.text))).toBe(d.text);
  });
});

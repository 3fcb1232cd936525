import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../core/backend.ts';
import { loadModel, openActivationStore, readUserTable, SEQ_STRIDE, userFileDataset, writeRandomCheckpoint } from '../../activations/index.ts';
import { harvestCommand } from './harvest.ts';

const tmp = mkdtempSync(join(tmpdir(), 'harvest-file-test-'));
const modelDir = join(tmp, 'gpt2');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend();
  writeRandomCheckpoint(modelDir, { architecture: 'gpt2', nLayers: 1, dModel: 16, nHeads: 2, vocabSize: 300, contextLength: 32, seed: 5 });
});

describe('lab harvest --dataset FILE', () => {
  it('stores the span labels of a JSON Lines file token by token, as the dataset made them', async () => {
    const path = join(tmp, 'ner.jsonl');
    const people = ['Alice', 'Bob', 'Carol', 'Dan'];
    writeFileSync(path, people.map((p, i) => JSON.stringify({ text: `${p} went to Paris on day ${i}.`, spans: [{ start: 0, end: p.length, feature: 'person' }, { start: p.length + 9, end: p.length + 14, feature: 'place' }] })).join('\n'));
    const out = join(tmp, 'ner');
    expect(await harvestCommand(['--model', modelDir, '--dataset', path, '--hooks', 'blocks.0.mlp.hook_post', '--max-tokens', '1000', '--context', '32', '--threads', '1', '--out', out, '--quiet'])).toBe(0);
    const store = openActivationStore(out);
    expect(store.manifest.dataset).toMatchObject({ name: 'file:ner.jsonl', level: 'token', features: ['person', 'place'] });
    expect(store.manifest.aggregation).toBe('none');
    const t = store.labelsTable();
    const seq = t.array('seq_id') as Int32Array;
    expect([...new Set(seq)].sort((a, b) => a - b)).toEqual([0, 1, 2, 3].map((i) => i * SEQ_STRIDE));
    // Independent of the harvester: the dataset's own labels for each record, position by position.
    const model = await loadModel(modelDir);
    const ds = userFileDataset(model.tokenizer, await readUserTable(path), { context: 32, seed: 0 });
    const want = new Map([...ds.sequences()].map((s) => [s.seqId, s]));
    const pos = t.array('position') as Int32Array;
    const tokenIds = t.array('token_id') as Int32Array;
    for (let r = 0; r < t.numRows(); r++) {
      const s = want.get(seq[r]!)!;
      expect(tokenIds[r]).toBe(s.ids[pos[r]!]);
      for (const f of ['person', 'place']) expect((t.array(f) as Uint8Array)[r]).toBe(s.tokenLabels![f]![pos[r]!]);
    }
    // Hand-checkable too: the tokens marked person in record i decode to its name, with the leading space
    // when the tiny tokenizer merged it into the name's first token (a lone ' ' token has no non-space
    // character, so it is never positive); place likewise to 'Paris'.
    for (let i = 0; i < 4; i++) {
      const mine = (f: string) => model.tokenizer.decode([...seq.keys()].filter((r) => seq[r] === i * SEQ_STRIDE && (t.array(f) as Uint8Array)[r] === 1).map((r) => tokenIds[r]!));
      expect([people[i], ' ' + people[i]]).toContain(mine('person'));
      expect(['Paris', ' Paris']).toContain(mine('place'));
    }
    model.dispose();
  });

  it('mean-aggregates a CSV of class labels by default, one row per sequence', async () => {
    const path = join(tmp, 'lang.csv');
    writeFileSync(path, 'sentence,language\n' + ['the cat,english', 'le chat,french', 'der Hund,german', 'the dog,english'].join('\n') + '\n');
    const out = join(tmp, 'lang');
    expect(await harvestCommand(['--model', modelDir, '--dataset', path, '--text-column', 'sentence', '--label-column', 'language', '--max-tokens', '100', '--context', '16', '--threads', '1', '--out', out, '--quiet'])).toBe(0);
    const store = openActivationStore(out);
    expect(store.manifest.aggregation).toBe('mean');
    expect(store.manifest.total_rows).toBe(4);
    const t = store.labelsTable();
    const bySeq = new Map<number, string>();
    for (let r = 0; r < 4; r++) {
      const f = ['english', 'french', 'german'].filter((x) => (t.array(x) as Uint8Array)[r] === 1);
      expect(f.length).toBe(1);
      bySeq.set((t.array('seq_id') as Int32Array)[r]! / SEQ_STRIDE, f[0]!);
    }
    expect([...bySeq.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1])).toEqual(['english', 'french', 'german', 'english']);
  });

  it('a bad file fails before anything is written, naming the file and line', async () => {
    const path = join(tmp, 'bad.jsonl');
    writeFileSync(path, '{"text": "fine", "label": "a"}\n{"text": 7, "label": "b"}\n');
    const out = join(tmp, 'bad-out');
    await expect(harvestCommand(['--model', modelDir, '--dataset', path, '--out', out, '--quiet'])).rejects.toThrow(/bad\.jsonl line 2: 'text' must be a string/);
    expect(existsSync(out)).toBe(false);
    await expect(harvestCommand(['--model', modelDir, '--dataset', 'brown-pos', '--text-column', 'x', '--out', out])).rejects.toThrow(/--text-column and --label-column apply to --dataset FILE/);
  });
});

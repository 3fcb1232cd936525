/**
 * `lab recall` and `lab facts make` end to end: usage and input errors (exit 2 / 1, naming the flag or
 * the JSONL line), skips with their reasons, --json's layout and --out's tables, on the planted M1 model.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLab } from '../cli-test-support.ts';
import { plantedFactsJsonl, writePlantedModel } from '../recall/index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'recall-cmd-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const model = join(tmp, 'M1');
const facts = join(tmp, 'facts.jsonl');
beforeAll(() => {
  writePlantedModel(model, 'M1');
  writeFileSync(facts, plantedFactsJsonl());
});

describe('lab recall', () => {
  it('usage errors exit 2 and name the flag', async () => {
    const r = await runLab('recall', '--facts', facts);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--model is required/);
    const t = await runLab('recall', '--model', model, '--facts', facts, '--target', 'nope');
    expect(t.code).toBe(2);
    expect(t.err).toMatch(/--target/);
  });

  it('a line that does not parse is an input error naming its line', async () => {
    const bad = join(tmp, 'bad.jsonl');
    writeFileSync(bad, plantedFactsJsonl() + '{"prompt": "So Mr Xavo lives", "subject_start": 3,\n');
    const r = await runLab('recall', '--model', model, '--facts', bad);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.jsonl:5: line 5 is not valid JSON/);
    const span = join(tmp, 'span.jsonl');
    writeFileSync(span, '{"prompt": "So Mr Xavo lives", "subject_start": 3, "subject_end": 40}\n');
    const s = await runLab('recall', '--model', model, '--facts', span);
    expect(s.code).toBe(1);
    expect(s.err).toMatch(/span\.jsonl:1: subject span 3\.\.40 is outside the prompt/);
  });

  it('--json: the issue\'s layout; queries it cannot score are skipped with their reasons', async () => {
    const mixed = join(tmp, 'mixed.jsonl');
    const long = 'So Mr Xavo lives ' + 'So '.repeat(20) + 'lives';
    writeFileSync(
      mixed,
      [
        plantedFactsJsonl().trim(),
        JSON.stringify({ prompt: long, subject_start: 3, subject_end: 10, attribute: 'Oslo' }),
        JSON.stringify({ prompt: 'So Mr Xavo lives', subject_start: 3, subject_end: 10, attribute: 'Amsterdam' }),
        JSON.stringify({ prompt: 'So lives Mr Xavo', subject_start: 9, subject_end: 16, attribute: 'Oslo' }),
      ].join('\n') + '\n',
    );
    const out = join(tmp, 'run');
    const r = await runLab('recall', '--model', model, '--facts', mixed, '--target', 'attribute', '--window', '1', '--m', '1', '--json', '--out', out);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ model, queries: 4, window: 1, accuracy: 1 });
    expect(j.skipped).toEqual([
      { line: 5, reason: expect.stringMatching(/longer than the model's context of 16/) },
      { line: 6, reason: expect.stringMatching(/attribute 'Amsterdam' is \d+ tokens under this tokenizer; --target attribute needs one/) },
      { line: 7, reason: expect.stringMatching(/subject reaches the last token/) },
    ]);
    expect(j.knockout).toHaveLength(6);
    expect(j.knockout[0]).toEqual({ layer: 0, block: 'subject', delta_p_pct: expect.any(Number) });
    expect(j.extraction).toContainEqual({ layer: 1, sublayer: 'attn', rate: 1 });
    expect(j.enrichment).toContainEqual({ layer: 0, position: 'subject_last', lens: 'raw', attributes_rate: 100, queries: 4 });
    for (const f of ['knockout.csv', 'enrichment.csv', 'enrichment-knockout.csv', 'extraction.csv', 'skipped.csv', 'recall.json', 'manifest.json']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    expect(readFileSync(join(out, 'knockout.csv'), 'utf8').split('\n')[0]).toBe('layer,block,delta_p_pct');
    // lab report draws the run.
    const html = join(tmp, 'report.html');
    const rep = await runLab('report', out, '--out', html, '--quiet');
    expect(rep.code, rep.err).toBe(0);
    const page = readFileSync(html, 'utf8');
    for (const t of ['Attention knockout per block set', 'Attributes rate per position', 'Extraction rate per sublayer']) expect(page).toContain(t);
  });

  it('the default window is about a fifth of the layers, at least 1', async () => {
    const r = await runLab('recall', '--model', model, '--facts', facts, '--json');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).window).toBe(1);
  });
});

describe('lab facts make', () => {
  it('writes a seeded knowledge base: offsets that cut out the subject, every attribute of each subject', async () => {
    const kb = join(tmp, 'kb.jsonl');
    const r = await runLab('facts', 'make', '--subjects', '5', '--relations', '3', '--seed', '3', '--out', kb, '--json');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ subjects: 5, facts: 15, queries: 30 });
    const lines = readFileSync(kb, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(30);
    for (const q of lines) {
      expect(q.prompt.slice(q.subject_start, q.subject_end)).toBe(q.subject);
      expect(q.subject_attributes).toContain(q.attribute);
      expect(q.subject_attributes).toHaveLength(3);
    }
    const again = await runLab('facts', 'make', '--subjects', '5', '--relations', '3', '--seed', '3', '--out', kb + '.2');
    expect(again.code).toBe(0);
    expect(readFileSync(kb + '.2', 'utf8')).toBe(readFileSync(kb, 'utf8'));
    expect((await runLab('facts', 'make', '--subjects', '5')).code).toBe(2);
  });
});

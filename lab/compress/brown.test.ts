import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_DIR } from '../lm/index.ts';
import { heldOutBrown, recordedHeldOut } from './brown.ts';

const tmp = mkdtempSync(join(tmpdir(), 'lab-compress-brown-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('held-out Brown text', () => {
  it("reads the trainer's held-out-documents.json beside a model or two levels up from a checkpoint", () => {
    const run = join(tmp, 'run');
    mkdirSync(join(run, 'checkpoints', 'step-5'), { recursive: true });
    writeFileSync(join(run, 'held-out-documents.json'), JSON.stringify({ seed: 0, fraction: 0.05, documents: ['ca04', 'cr09'] }));
    expect(recordedHeldOut(run)?.files).toEqual(['ca04', 'cr09']);
    expect(recordedHeldOut(join(run, 'checkpoints', 'step-5'))?.files).toEqual(['ca04', 'cr09']);
    const h = heldOutBrown(run);
    expect(h.files).toEqual(['ca04', 'cr09']);
    expect(h.text.length).toBeGreaterThan(10_000);
    expect(h.text).not.toMatch(/\/[a-z]+\b.*\/[a-z]+\b/); // tags dropped
  });

  it('samples an equal opening of every document when capped, within the cap', () => {
    const full = heldOutBrown(undefined);
    expect(full.files.length).toBe(25);
    expect(full.source).toMatch(/fallback/);
    const capped = heldOutBrown(undefined, 5000);
    const bytes = new TextEncoder().encode(capped.text).length;
    expect(bytes).toBeLessThanOrEqual(5000);
    expect(bytes).toBeGreaterThan(4000);
    // Every document contributes its opening words.
    const pieces = capped.text.split(' ');
    expect(pieces.length).toBeGreaterThan(25 * 10);
  });
});

// Hashed before the three Brown readers became one (issue 11; /tmp/brownhash.mts at 02ed712): the
// report's bits per byte are counted on these bytes, so they must not move.
describe('held-out Brown bytes', () => {
  const sha = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);
  it('are the bytes of the reader they replaced', () => {
    const full = heldOutBrown(DEFAULT_MODEL_DIR);
    expect(full.files).toHaveLength(25);
    expect(sha(full.text)).toBe('846eaa5b12135bed');
    expect(sha(heldOutBrown(DEFAULT_MODEL_DIR, 50_000).text)).toBe('018dd75dcf480d8c');
  });
});

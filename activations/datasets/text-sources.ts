/**
 * Plain-text sources for the text-property and compound-word datasets: the Brown corpus as text
 * (tags unused) or npm `nlp-corpus` (100 files of 1,000 varied English sentences each).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { InputError } from '../../lab/core/index.ts';
import { brownDocs } from './brown.ts';
import type { SourceDoc } from './sequences.ts';

export const TEXT_SOURCES = ['brown', 'nlp-corpus'] as const;
export type TextSource = (typeof TEXT_SOURCES)[number];

const require = createRequire(import.meta.url);

function nlpCorpusDocs(): SourceDoc[] {
  let builds: string;
  try {
    builds = join(dirname(require.resolve('nlp-corpus')), '..', '..', 'builds');
  } catch {
    throw new InputError('npm nlp-corpus is not installed: run npm ci', 'nlp-corpus');
  }
  return Array.from({ length: 100 }, (_, index) => {
    const path = join(builds, `doc-${index}.json`);
    return {
      index,
      name: `doc-${index}`,
      sentences: () => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(readFileSync(path, 'utf8'));
        } catch (err) {
          throw new InputError(`cannot read nlp-corpus file ${path}: ${(err as Error).message}`, path);
        }
        if (!Array.isArray(parsed)) throw new InputError(`${path} is not a JSON array of sentences`, path);
        return parsed.filter((s): s is string => typeof s === 'string').map((text) => ({ text }));
      },
    };
  });
}

export function textDocs(source: TextSource): SourceDoc[] {
  if (source === 'brown') return brownDocs().map((d) => ({ ...d, sentences: () => d.sentences().map((s) => ({ text: s.text })) }));
  return nlpCorpusDocs();
}

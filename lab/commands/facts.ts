/**
 * `lab facts make`: a knowledge base of invented people (multi-token names) with single-token attributes,
 * written as kb.jsonl: one held-out query per line (the layout `lab recall` reads), which `lab lm train
 * --corpus facts --kb` turns into biographies to train on.
 */
import { parseFlags, usage, type FlagSpecs } from './args.ts';
import { UsageError } from '../core/index.ts';

const MAKE_FLAGS: FlagSpecs = {
  subjects: { type: 'int', help: 'invented people', default: 64, min: 1 },
  relations: { type: 'int', help: 'relations per person (lives_in, works_as, speaks, plays)', default: 4, min: 1, max: 4 },
  seed: { type: 'int', help: 'seed of the names and the facts', default: 0 },
  out: { type: 'string', help: 'the kb.jsonl to write' },
  json: { type: 'boolean', help: 'print a summary as JSON' },
  help: { type: 'boolean', help: 'show this help' },
};

const SUB = 'usage: lab facts make [flags]   (lab facts make --help)';

export async function factsCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'make') return make(rest);
  if (sub === undefined || sub === '--help' || sub === '-h') {
    process.stdout.write(`${SUB}\n\n  make  write a knowledge base of invented facts (kb.jsonl)\n`);
    return sub === undefined ? 2 : 0;
  }
  throw new UsageError(`unknown subcommand 'facts ${sub}'; ${SUB}`);
}

async function make(argv: string[]): Promise<number> {
  const { flags } = parseFlags(argv, MAKE_FLAGS);
  if (flags.help) {
    process.stdout.write(usage('facts make', 'Writes invented subjects, their single-token attributes and held-out query prompts as kb.jsonl.', MAKE_FLAGS) + '\n');
    return 0;
  }
  if (flags.out === undefined) throw new UsageError('--out is required (the kb.jsonl to write)', 'out');
  const { makeKnowledgeBase, writeKb } = await import('../lm/index.ts');
  const kb = makeKnowledgeBase({ subjects: flags.subjects as number, relations: flags.relations as number, seed: flags.seed as number });
  const lines = writeKb(flags.out as string, kb);
  const summary = { out: flags.out, subjects: kb.subjects.length, relations: kb.relations.map((r) => r.name), facts: kb.facts.length, queries: lines, seed: kb.seed };
  if (flags.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  else process.stdout.write(`${lines} queries (${kb.facts.length} facts of ${kb.subjects.length} subjects, ${kb.relations.length} relations) written to ${flags.out}\n`);
  return 0;
}

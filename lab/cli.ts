/**
 * The `lab` command. Each subcommand is a thin layer over a library function that a notebook can call
 * too; its module is loaded only when that subcommand runs, so `lab backend` does not pay for arquero
 * or the model code.
 */
import { LabError, UsageError } from './errors.ts';

export type Command = (argv: string[]) => Promise<number>;

interface Entry {
  summary: string;
  load: () => Promise<Command>;
}

/** One line per user job. A room adds its subcommands here when they land. */
const COMMANDS: Record<string, Entry> = {
  demo: {
    summary: 'the main job end to end: harvest, probe, classify, toy models, HTML dashboard',
    load: async () => (await import('./demo-cli.ts')).demoCommand,
  },
  backend: {
    summary: 'print the active tfjs backend and why each other one is not active',
    load: async () => (await import('./backend-cli.ts')).backendCommand,
  },
  harvest: {
    summary: 'run a model over labelled text (or a toy over its data) and store hook activations with labels',
    load: async () => (await import('../activations/harvest-cli.ts')).harvestCommand,
  },
  inspect: {
    summary: 'run one text through a model: one hook\'s values and the top-5 logits per position (--json)',
    load: async () => (await import('../activations/inspect-cli.ts')).inspectCommand,
  },
  toy: {
    summary: 'train toy models of superposition (train) and sweep phase diagrams (sweep)',
    load: async () => (await import('./toy/cli.ts')).toyCommand,
  },
  probe: {
    summary: 'sweep k-sparse probes over features x hooks x ranking methods x k (resumable)',
    load: async () => (await import('../probes/cli.ts')).probeCommand,
  },
  classify: {
    summary: 'classify features (dedicated neuron, k*, capacity) and neurons (mono/poly/dead) from a probe run',
    load: async () => (await import('../probes/cli.ts')).classifyCommand,
  },
  report: {
    summary: 'write one self-contained HTML dashboard for any mix of run directories',
    load: async () => (await import('../results/report-cli.ts')).reportCommand,
  },
  lm: {
    summary: 'train the lab\'s own GPT-2 on the Brown corpus (train) and score a checkpoint on its held-out split (eval)',
    load: async () => (await import('./lm/cli.ts')).lmCommand,
  },
  compress: {
    summary: 'compress a file losslessly with a language model (--report: bits/byte vs gzip, xz, zstd)',
    load: async () => (await import('./compress/cli.ts')).compressCommand,
  },
  decompress: {
    summary: 'restore a file written by lab compress (same model, backend and tfjs version)',
    load: async () => (await import('./compress/cli.ts')).decompressCommand,
  },
};

export function registerCommand(name: string, entry: Entry): void {
  COMMANDS[name] = entry;
}

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length)) + 2;
  return [
    'usage: lab <command> [flags]     (lab <command> --help for its flags)',
    '',
    ...Object.entries(COMMANDS).map(([k, v]) => `  ${k.padEnd(width)}${v.summary}`),
    '',
    'Every command takes --backend node-gpu|node|wasm|cpu (or LAB_BACKEND) to force a tfjs backend.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help() + '\n');
    return name === undefined ? 2 : 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    process.stderr.write(`lab: unknown command '${name}'\n\n${help()}\n`);
    return 2;
  }
  try {
    const command = await entry.load();
    return await command(rest);
  } catch (err) {
    if (err instanceof LabError) {
      process.stderr.write(`lab ${name}: error: ${err.message}\n`);
      return err instanceof UsageError ? 2 : 1;
    }
    throw err;
  }
}

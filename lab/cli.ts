/**
 * The `lab` command. Each subcommand is a thin layer over a library function that a notebook can call
 * too; its module is loaded only when that subcommand runs, so `lab backend` does not pay for arquero
 * or the model code.
 */
import { LabError, UsageError } from './core/index.ts';
import { COMMANDS } from './commands/index.ts';

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

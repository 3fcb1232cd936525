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
    'Errors are one line; --debug (or LAB_DEBUG=1) adds the stack. Exit codes: 1 bad input, 2 bad flag, 70 a bug.',
  ].join('\n');
}

/** Exit codes: 0 done, 1 bad input or a failed run (the message says which file), 2 a bad flag, 70 a bug. */
export const EXIT = { ok: 0, input: 1, usage: 2, internal: 70 } as const;

/** One line for an error that is not a LabError: a system error names its path; anything else is a bug. */
function describeUnexpected(err: unknown): { line: string; code: number } {
  const e = err instanceof Error ? err : new Error(String(err));
  // tfjs-wasm and other minified code can put kilobytes into a message: the first line, capped, is enough.
  const msg = (e.message.split('\n')[0] ?? '').slice(0, 400);
  const sys = (e as NodeJS.ErrnoException).code;
  if (typeof sys === 'string' && /^E[A-Z]+$/.test(sys)) return { line: `error: ${msg}`, code: EXIT.input };
  if (e instanceof RangeError && /allocation|Array buffer|Invalid (typed )?array length/i.test(msg)) {
    return { line: `error: out of memory (${msg}): the input is larger than this process can hold`, code: EXIT.input };
  }
  return { line: `internal error: ${e.name}: ${msg} (a bug in the lab; rerun with --debug or LAB_DEBUG=1 for the stack)`, code: EXIT.internal };
}

function report(name: string, err: unknown, debug: boolean): number {
  if (err instanceof LabError) {
    process.stderr.write(`lab ${name}: error: ${err.message}\n`);
    if (debug && err.stack) process.stderr.write(err.stack + '\n');
    return err instanceof UsageError ? EXIT.usage : EXIT.input;
  }
  const { line, code } = describeUnexpected(err);
  process.stderr.write(`lab ${name}: ${line}\n`);
  if (debug) process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  return code;
}

let fatalInstalled = false;

/**
 * Errors thrown outside the command's promise (a worker's message handler, a timer) would reach
 * tfjs-wasm's uncaughtException handler, which rethrows and dumps its minified source: this handler,
 * registered first, prints the same one line and exits. Only for the real process, not in-process tests.
 */
function installFatalHandler(name: string, debug: boolean): void {
  if (fatalInstalled || process.env.VITEST) return;
  fatalInstalled = true;
  const fatal = (err: unknown) => {
    process.exit(report(name, err, debug));
  };
  process.prependListener('uncaughtException', fatal);
  process.prependListener('unhandledRejection', fatal);
}

export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug') || process.env.LAB_DEBUG === '1';
  const [name, ...rest] = argv.filter((a) => a !== '--debug');
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help() + '\n');
    return name === undefined ? 2 : 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    process.stderr.write(`lab: unknown command '${name}'\n\n${help()}\n`);
    return 2;
  }
  installFatalHandler(name, debug);
  try {
    const command = await entry.load();
    return await command(rest);
  } catch (err) {
    return report(name, err, debug);
  }
}

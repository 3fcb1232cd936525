import { parseFlags, usage, type FlagSpecs } from './args.ts';

const SPECS: FlagSpecs = {
  backend: { type: 'string', help: 'force a backend: node-gpu, node, wasm or cpu' },
  json: { type: 'boolean', help: 'print the report as JSON' },
  help: { type: 'boolean', help: 'show this help' },
};

export async function backendCommand(argv: string[]): Promise<number> {
  const { flags } = parseFlags(argv, SPECS);
  if (flags.help) {
    process.stdout.write(usage('backend', 'Prints the active tfjs backend and why each other one is not active.', SPECS) + '\n');
    return 0;
  }
  const { describeBackend, initBackend } = await import('../core/backend.ts');
  const report = await initBackend(flags.backend as string | undefined);
  process.stdout.write((flags.json ? JSON.stringify(report, null, 2) : describeBackend(report)) + '\n');
  return 0;
}

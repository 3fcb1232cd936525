#!/usr/bin/env node
// The `lab` command: registers tsx so the TypeScript sources run as they are, then hands over to lab/cli.ts.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../lab/cli.ts');
process.exitCode = await main(process.argv.slice(2));

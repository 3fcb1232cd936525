#!/usr/bin/env node
// `npm run bench -- NAME`: runs one benchmark from bench/ side by side with its peer.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../bench/run.ts');
process.exitCode = await main(process.argv.slice(2));

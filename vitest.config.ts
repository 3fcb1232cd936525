import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{lab,activations,probes,results,bench}/**/*.test.ts'],
    // tfjs-wasm and the toy trainers are single-threaded; two forks match the 2-core CI machine.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});

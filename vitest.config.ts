import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{lab,activations,probes,results,bench}/**/*.test.ts'],
    // tfjs-wasm and the toy trainers are single-threaded; two forks match the 2-core CI machine.
    pool: 'forks',
    // Builds dist/ once when stale: the notebook and package tests run the compiled package.
    globalSetup: ['./bin/test-setup.mjs'],
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});

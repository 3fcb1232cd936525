import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { initBackend } from '../core/backend.ts';
import { installPlainTransposedMatMul } from '../lm/index.ts';
import { loadModel, writeRandomCheckpoint } from '../../activations/index.ts';
import { compress, decompress, defaultEngine } from './codec.ts';

const tmp = mkdtempSync(join(tmpdir(), 'lab-compress-engine-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

it('records a swapped-in wasm matMul kernel in the engine, and refuses across the swap', async () => {
  await initBackend('wasm');
  writeRandomCheckpoint(tmp, { architecture: 'gpt2', nLayers: 1, dModel: 16, nHeads: 2, vocabSize: 265, contextLength: 16, seed: 7 });
  const model = await loadModel(tmp);
  const before = defaultEngine();
  expect(before).toMatch(/^wasm tfjs-core@\d+\.\d+\.\d+$/);
  const { file } = compress(model, new TextEncoder().encode('the theory of the thing'));
  expect(installPlainTransposedMatMul()).toBe(true);
  expect(defaultEngine()).toBe(`${before} +plain-transposed-matmul`);
  expect(() => decompress(model, file)).toThrow(/--backend wasm/);
  const again = compress(model, new TextEncoder().encode('the theory of the thing'));
  expect(new TextDecoder().decode(decompress(model, again.file).data)).toBe('the theory of the thing');
  model.dispose();
});

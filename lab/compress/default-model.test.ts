import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../core/backend.ts';
import { loadModel } from '../../activations/index.ts';
import { compress, decompress } from './codec.ts';
import { DEFAULT_MODEL_DIR } from '../lm/index.ts';

// The lab-trained default model is committed (lab/lm/default-model): a clone without it fails here.
describe('the default model (lab/lm/default-model)', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('round-trips a short English text with one escaped byte, under 4 bits per byte', async () => {
    const model = await loadModel(DEFAULT_MODEL_DIR);
    try {
      const text =
        'The committee said that the new plan would be presented to the members of the board next week, ' +
        'and that the city had no further comment on the matter. "It is too early to say," he added.\n';
      const data = new Uint8Array([...new TextEncoder().encode(text), 0xff]); // one invalid UTF-8 byte: escaped
      const { file, stats } = compress(model, data);
      const back = decompress(model, file);
      expect(Buffer.from(back.data).equals(Buffer.from(data))).toBe(true);
      expect(stats.rawBytes).toBeGreaterThanOrEqual(1);
      // A trained model puts far more mass on English than a uniform byte code does.
      expect((8 * stats.payloadBytes) / data.length).toBeLessThan(4);
    } finally {
      model.dispose();
    }
  });
});

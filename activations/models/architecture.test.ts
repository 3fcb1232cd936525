import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../lab/core/backend.ts';
import { architecture, architectureSpecs, parseHfConfig, registerArchitecture, supportedModelTypes } from './architecture.ts';
import { SUPPORTED_ARCHITECTURES } from './architectures.ts';
import { gpt2Architecture, gpt2HfConfig } from './gpt2.ts';
import { loadModel } from './load.ts';
import { writeRandomCheckpoint } from './random-checkpoint.ts';

const tmp = mkdtempSync(join(tmpdir(), 'arch-registry-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend();
});

const shape = { nLayers: 1, dModel: 8, nHeads: 2, vocabSize: 270, contextLength: 8 };

describe('architecture registry', () => {
  it('lists the built-ins, and the unknown-architecture error names every model_type', () => {
    expect(architectureSpecs().slice(0, 2).map((a) => a.name)).toEqual(['gpt2', 'gpt-neox']);
    expect(SUPPORTED_ARCHITECTURES).toEqual(['gpt2', 'gpt_neox', 'llama', 'mistral', 'qwen2', 'gpt_neo', 'gptj', 'opt', 'gemma', 'gemma2']);
    expect(() => parseHfConfig({ model_type: 'mamba' }, 'x/config.json')).toThrow(/x\/config.json: unknown architecture model_type="mamba"; supported: gpt2, gpt_neox, llama, mistral, qwen2, gpt_neo, gptj, opt, gemma, gemma2$/);
  });

  it('takes a new architecture in one call: config parsing, random checkpoints and loadModel dispatch through it', async () => {
    // A GPT-2 under another model_type: the same tensors from the same seed must give the same logits.
    registerArchitecture({
      ...gpt2Architecture,
      name: 'test-gpt2', modelTypes: ['test_gpt2'], summary: 'GPT-2 under another name (a test architecture)',
      parseConfig: (r) => ({ ...gpt2Architecture.parseConfig(r), architecture: 'test-gpt2' }),
      hfConfig: (s) => ({ ...gpt2HfConfig(s), model_type: 'test_gpt2' }),
      loadParams: (cfg, reader) => gpt2Architecture.loadParams({ ...cfg, architecture: 'gpt2' }, reader),
    });
    expect(supportedModelTypes()).toContain('test_gpt2');
    expect(() => parseHfConfig({ model_type: 'nope' }, 'c.json')).toThrow(/supported: gpt2, gpt_neox, llama, mistral, qwen2, gpt_neo, gptj, opt, gemma, gemma2, test_gpt2/);
    writeRandomCheckpoint(join(tmp, 'a'), { ...shape, architecture: 'gpt2', seed: 4 });
    writeRandomCheckpoint(join(tmp, 'b'), { ...shape, architecture: 'test-gpt2', seed: 4 });
    const a = await loadModel(join(tmp, 'a'));
    const b = await loadModel(join(tmp, 'b'));
    try {
      expect(b.config.architecture).toBe('test-gpt2');
      expect(b.hookNames()).toEqual(a.hookNames());
      const ids = tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32');
      const la = a.forward(ids).logits;
      const lb = b.forward(ids).logits;
      expect(Array.from(lb.dataSync())).toEqual(Array.from(la.dataSync()));
      tf.dispose([ids, la, lb]);
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it('refuses a name or a model_type registered twice', () => {
    expect(() => registerArchitecture({ ...gpt2Architecture, modelTypes: ['other'] })).toThrow(/architecture 'gpt2' is already registered/);
    expect(() => registerArchitecture({ ...gpt2Architecture, name: 'gpt2-again' })).toThrow(/model_type 'gpt2' is already read by architecture 'gpt2'/);
    expect(() => architecture('mamba')).toThrow(/unknown architecture 'mamba'; registered: gpt2, gpt-neox, llama, mistral, qwen2, gpt-neo, gptj, opt, gemma, gemma2/);
  });
});

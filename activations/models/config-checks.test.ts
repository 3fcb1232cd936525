import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from './load.ts';
import { writeRandomCheckpoint } from './random-checkpoint.ts';

const tmp = mkdtempSync(join(tmpdir(), 'config-checks-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function edit(dir: string, f: (c: Record<string, unknown>) => void): void {
  const p = join(dir, 'config.json');
  const c = JSON.parse(readFileSync(p, 'utf8'));
  f(c);
  writeFileSync(p, JSON.stringify(c));
}

describe('config values that make no sense (issue 19 case 9)', () => {
  for (const architecture of ['gpt2', 'gpt-neox'] as const) {
    it(`${architecture}: a negative epsilon and fewer layers than the checkpoint holds are named errors`, async () => {
      const dir = join(tmp, architecture);
      writeRandomCheckpoint(dir, { architecture, nLayers: 2, dModel: 16, nHeads: 2, vocabSize: 300, contextLength: 16, seed: 1 });
      const m = await loadModel(dir);
      m.dispose();
      const eps = architecture === 'gpt2' ? 'layer_norm_epsilon' : 'layer_norm_eps';
      const layers = architecture === 'gpt2' ? 'n_layer' : 'num_hidden_layers';
      edit(dir, (c) => (c[eps] = -1));
      await expect(loadModel(dir)).rejects.toThrow(/config\.json: the layer-norm epsilon must be in \(0, 1\), got -1/);
      edit(dir, (c) => {
        c[eps] = 1e-5;
        c[layers] = 1;
      });
      await expect(loadModel(dir)).rejects.toThrow(/tensor\(s\) config\.json does not use .*of layer\(s\) 1 past its layer count/);
    });
  }
});

describe('a model folder cannot read outside itself (issue 19 case 19)', () => {
  it('a weight_map shard with a path is a named error that echoes nothing of the target', async () => {
    const dir = join(tmp, 'shards');
    writeRandomCheckpoint(dir, { architecture: 'gpt2', nLayers: 1, dModel: 8, nHeads: 2, vocabSize: 300, contextLength: 8, seed: 1 });
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { 'wte.weight': '../../../../etc/passwd' } }));
    const err = await loadModel(dir).then(() => undefined, (e: Error) => e);
    expect(err?.message).toMatch(/shard "\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd" is not a file name in/);
    expect(err?.message).not.toMatch(/root:/);
  });
});

describe('a checkpoint larger than the machine (issue 19 case 13)', () => {
  it('is a named error before any tensor is allocated, even as a sparse file', async () => {
    const dir = join(tmp, 'huge');
    writeRandomCheckpoint(dir, { architecture: 'gpt2', nLayers: 1, dModel: 8, nHeads: 2, vocabSize: 300, contextLength: 8, seed: 1 });
    // One tensor claiming more than the machine's memory, the file extended sparsely to match.
    const { totalmem } = await import('node:os');
    const n = Math.ceil(totalmem() / 4) + 1024;
    const header = Buffer.from(JSON.stringify({ 'wte.weight': { dtype: 'F32', shape: [n], data_offsets: [0, n * 4] } }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    const p = join(dir, 'model.safetensors');
    writeFileSync(p, Buffer.concat([len, header]));
    const { truncateSync } = await import('node:fs');
    truncateSync(p, 8 + header.length + n * 4);
    await expect(loadModel(dir)).rejects.toThrow(/GiB of weights as float32, more than the .* GiB \(75% of this machine's memory\)/);
    rmSync(p);
  });
});

/**
 * Random checkpoints in the Hugging Face layout, from a seed: the tiny models the parity tests and the
 * PyTorch peer share, and the GPT-2-small-shaped model the harvest benchmark runs. The same seed and
 * shape always give the same bytes.
 */
import { Rng } from '../../lab/core/index.ts';
import { writeCheckpoint } from './checkpoint.ts';
import { architecture, parseWith, type ArchitectureShape } from './architecture.ts';
// Run for its effect: registers the built-in architectures.
import './architectures.ts';
import type { TensorToWrite } from './safetensors.ts';
import { byteLevelBpeJson } from './tokenizer.ts';

export interface RandomCheckpointSpec extends ArchitectureShape {
  /** A registered architecture's name ('gpt2', 'gpt-neox', ...). */
  architecture: string;
  /** Spread of the weights; layer-norm gains are 1 + std * N(0, 1). Default 0.02. */
  std?: number;
  dtype?: 'f32' | 'f16';
  seed: number;
  /** config.json fields set over the architecture's hfConfig (null deletes one): config variants such as rope_parameters. */
  config?: Record<string, unknown>;
}

/** A few merges so the tiny tokenizer exercises BPE, not only single bytes. */
export const TINY_MERGES: [string, string][] = [
  ['Ġ', 't'], ['h', 'e'], ['Ġt', 'he'], ['i', 'n'], ['Ġ', 'a'], ['e', 'r'], ['o', 'n'], ['Ġ', 's'],
];

export function randomCheckpointTensors(spec: RandomCheckpointSpec): { config: Record<string, unknown>; tensors: Map<string, TensorToWrite> } {
  const arch = architecture(spec.architecture);
  const config = arch.hfConfig(spec);
  for (const [k, v] of Object.entries(spec.config ?? {})) {
    if (v === null) delete config[k];
    else config[k] = v;
  }
  const cfg = parseWith(arch, config, '<random checkpoint>');
  const shapes = arch.tensorShapes(cfg);
  const rng = new Rng(spec.seed);
  const std = spec.std ?? 0.02;
  const tensors = new Map<string, TensorToWrite>();
  for (const [name, shape] of shapes) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const gain = arch.normGain.test(name);
    for (let i = 0; i < n; i++) data[i] = (gain ? 1 : 0) + std * rng.normal();
    tensors.set(name, { dtype: spec.dtype ?? 'f32', shape, data });
  }
  return { config, tensors };
}

/** Writes config.json, model.safetensors and a small ByteLevel BPE tokenizer.json into `dir`. */
export function writeRandomCheckpoint(dir: string, spec: RandomCheckpointSpec): void {
  const { config, tensors } = randomCheckpointTensors(spec);
  writeCheckpoint(dir, { config, tensors, tokenizerJson: byteLevelBpeJson(TINY_MERGES, { neox: architecture(spec.architecture).tokenizer === 'neox' }) });
}

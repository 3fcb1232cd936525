/**
 * Faster transposed matMuls on the wasm backend.
 *
 * tfjs-backend-wasm 4.22 runs a matMul with transposeA or transposeB far slower than a plain one
 * (measured here on a 1024x512 by 512x128 product in a training step: about 20x), and every backward
 * pass is made of exactly those: dA = dY B^T, dB = A^T dY. Transposing the operand explicitly (a cheap
 * copy) and running the plain kernel gives the same product. This wraps the registered BatchMatMul and
 * _FusedMatMul kernels of the wasm backend so every caller (autodiff included) gets the plain path.
 *
 * It belongs with the backend choice (lab/core/backend.ts) once the lead moves it there; the trainer
 * installs it for now. Idempotent; a no-op when the wasm backend is not registered.
 */
import { getKernel, registerKernel, unregisterKernel, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';

const WRAPPED = Symbol.for('neuronlab.plainTransposedMatMul');

function wrap(kernelName: string): boolean {
  const orig = getKernel(kernelName, 'wasm') as (KernelConfig & { [WRAPPED]?: true }) | undefined;
  const transpose = getKernel('Transpose', 'wasm');
  if (!orig || !transpose) return false;
  if (orig[WRAPPED]) return true;
  const plain = orig.kernelFunc;
  const kernelFunc: KernelFunc = (args) => {
    const attrs = args.attrs as { transposeA?: boolean; transposeB?: boolean };
    if (!attrs.transposeA && !attrs.transposeB) return plain(args);
    const backend = args.backend as { disposeData(id: unknown): void };
    const tmp: TensorInfo[] = [];
    const swap = (x: TensorInfo): TensorInfo => {
      const r = x.shape.length;
      const perm = [...Array(r).keys()];
      [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
      const y = transpose.kernelFunc({ inputs: { x }, backend: args.backend, attrs: { perm } }) as TensorInfo;
      tmp.push(y);
      return y;
    };
    const inputs = { ...args.inputs } as Record<string, TensorInfo>;
    if (attrs.transposeA) inputs.a = swap(inputs.a!);
    if (attrs.transposeB) inputs.b = swap(inputs.b!);
    try {
      return plain({ ...args, inputs, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
    } finally {
      for (const t of tmp) backend.disposeData(t.dataId);
    }
  };
  unregisterKernel(kernelName, 'wasm');
  registerKernel({ ...orig, kernelFunc, setupFunc: undefined, [WRAPPED]: true } as KernelConfig);
  return true;
}

/** Installs the plain-path wrappers; returns whether the wasm kernels were found. */
export function installPlainTransposedMatMul(): boolean {
  const a = wrap('BatchMatMul');
  const b = wrap('_FusedMatMul');
  return a && b;
}

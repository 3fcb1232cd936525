/**
 * The encoder's dense product on tfjs (XNNPACK's GEMM on the wasm backend, ~10x the JS loop here at
 * SAE sizes of a real model's MLP). Registered by the commands once a backend is up; the JS loop stays
 * the path for small SAEs (toys), where one tensor round trip costs more than the product.
 */
import { tf, initBackend } from '../../lab/core/backend.ts';
import { setDenseMatMul } from './model.ts';

export async function useTfMatMul(backend?: string): Promise<string> {
  const r = await initBackend(backend);
  setDenseMatMul((a, b, m, k, n) => {
    // Read the result outside tidy: tidy walks what its function returns, element by element for an array.
    const c = tf.tidy(() => tf.matMul(tf.tensor2d(a, [m, k]), tf.tensor2d(b, [k, n])));
    const out = c.dataSync() as Float32Array;
    c.dispose();
    return out;
  });
  return r.active;
}

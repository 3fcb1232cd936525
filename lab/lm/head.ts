/**
 * The language-model head and its cross-entropy as one differentiable op: logits = h W^T over the tied
 * embedding W [vocab, d], then the mean of -log softmax at the targets.
 *
 * Why its own gradient: on the wasm backend a matMul with a transposed operand runs about 5x slower than
 * a plain one (measured here: [512,128]x[128,35010] 1.9 s plain vs 10.2 s with transposeB under load),
 * and autodiff of h W^T needs both transposed forms. Transposing the small operands explicitly keeps all
 * three products (logits, dh, dW) plain. The softmax gradient is written directly (softmax - onehot)
 * instead of differentiating through logSoftmax and a gather (gather has no gradient on wasm).
 */
import { tf } from '../core/backend.ts';

/** Logits [N, V] = h [N, d] W^T with W [V, d], with W transposed explicitly (plain matMul on wasm). */
export function headLogits(h: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.matMul(h, tf.transpose(w)));
}

/** Sum over rows of -log softmax(logits)[target] (no gradient; for evaluation). */
export function crossEntropySum(logits: tf.Tensor2D, targets: Int32Array): number {
  return tf.tidy(() => {
    const [N, V] = logits.shape;
    const lse = tf.logSumExp(logits, -1);
    const flat = Int32Array.from(targets, (t, i) => i * V + t);
    const picked = tf.gather(tf.reshape(logits, [N * V]), tf.tensor1d(flat, 'int32'));
    return tf.sum(tf.sub(lse, picked)).dataSync()[0]!;
  });
}

/** Mean cross-entropy of the head over the targets, differentiable in h and W. */
export function headLoss(h: tf.Tensor2D, w: tf.Tensor2D, targets: Int32Array): tf.Scalar {
  const [N] = h.shape;
  const V = w.shape[0];
  if (targets.length !== N) throw new Error(`headLoss: ${targets.length} targets for ${N} rows`);
  // CustomGradientFunc types its arguments as one rest list (inputs..., save): unpack it so.
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [hh, ww, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const logits = headLogits(hh as tf.Tensor2D, ww as tf.Tensor2D);
    const lse = tf.logSumExp(logits, -1, true);
    const flat = Int32Array.from(targets, (t, i) => i * V + t);
    const picked = tf.gather(tf.reshape(logits, [N * V]), tf.tensor1d(flat, 'int32'));
    const value = tf.div(tf.sum(tf.sub(tf.reshape(lse, [N]), picked)), N) as tf.Scalar;
    save([hh, ww, logits, lse]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [hs, ws, lg, ls] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
      const onehot = tf.oneHot(tf.tensor1d(targets, 'int32'), V);
      const dlogits = tf.mul(tf.sub(tf.exp(tf.sub(lg, ls)), onehot), tf.div(dy, N)) as tf.Tensor2D;
      const dh = tf.matMul(dlogits, ws);
      const dw = tf.transpose(tf.matMul(tf.transpose(hs), dlogits));
      return [dh, dw];
    };
    return { value, gradFunc };
  });
  return f(h, w) as tf.Scalar;
}

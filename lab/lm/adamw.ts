/**
 * AdamW (Loshchilov & Hutter): Adam with weight decay applied to the weights directly rather than
 * through the gradient. tfjs ships Adam without decoupled decay, so the update is written here; decay
 * applies only to matrices (GPT-2's recipe: no decay on biases and layer-norm gains).
 */
import { tf } from '../core/backend.ts';

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

export class AdamW {
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private t = 0;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;

  constructor(private readonly vars: Map<string, tf.Variable>, opts: AdamWOptions = {}) {
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.95;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0.1;
    for (const [name, x] of vars) {
      this.m.set(name, tf.variable(tf.zerosLike(x), false));
      this.v.set(name, tf.variable(tf.zerosLike(x), false));
    }
  }

  /** One update with learning rate `lr`; `grads` by variable name (missing ones are skipped). */
  step(grads: Record<string, tf.Tensor>, lr: number): void {
    this.t++;
    const bc1 = 1 - this.beta1 ** this.t;
    const bc2 = 1 - this.beta2 ** this.t;
    tf.tidy(() => {
      for (const [name, x] of this.vars) {
        const g = grads[name];
        if (!g) continue;
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        const m1 = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1));
        const v1 = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        m.assign(m1);
        v.assign(v1);
        const update = tf.div(tf.div(m1, bc1), tf.add(tf.sqrt(tf.div(v1, bc2)), this.eps));
        let next = tf.sub(x, tf.mul(update, lr));
        if (x.rank >= 2 && this.weightDecay > 0) next = tf.sub(next, tf.mul(x, lr * this.weightDecay));
        x.assign(next);
      }
    });
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}

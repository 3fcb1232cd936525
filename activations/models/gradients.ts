/**
 * tfjs-core registers no gradients by itself (the `@tensorflow/tfjs` union package does, through
 * dist/register_all_gradients.js, which is not installed here). That file is ESM with extensionless
 * imports, which Node's ESM resolver rejects, so it is loaded through tsx's scoped CommonJS require.
 * The gradient registry is global, so registering from that copy serves every copy of tfjs-core.
 */
import { require as tsxRequire } from 'tsx/cjs/api';
import { tf } from '../../lab/core/backend.ts';

export function ensureGradients(): void {
  if (tf.getGradient('Sum') !== undefined) return;
  tsxRequire('@tensorflow/tfjs-core/dist/register_all_gradients.js', import.meta.url);
  if (tf.getGradient('Sum') === undefined) throw new Error('tfjs gradients failed to register');
}

/**
 * tfjs-core registers no gradients by itself (the `@tensorflow/tfjs` union package does, through
 * dist/register_all_gradients.js, which is not installed here). That file is ESM with extensionless
 * imports, which Node's ESM resolver rejects. The build (bin/build.mjs) bundles it as CommonJS into
 * dist/vendor/tfjs-gradients.cjs; a development checkout without a build loads it through tsx's scoped
 * CommonJS require instead. The gradient registry is global, so registering from either copy serves every
 * copy of tfjs-core.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tf } from '../../lab/core/backend.ts';
import { packagePath } from '../../lab/core/index.ts';

export function ensureGradients(): void {
  if (tf.getGradient('Sum') !== undefined) return;
  const require = createRequire(import.meta.url);
  const bundle = packagePath('dist', 'vendor', 'tfjs-gradients.cjs');
  if (existsSync(bundle)) require(bundle);
  else {
    // tsx is a development dependency: present wherever the sources run without a build.
    const tsx = require('tsx/cjs/api') as { require: (id: string, from: string) => unknown };
    tsx.require('@tensorflow/tfjs-core/dist/register_all_gradients.js', import.meta.url);
  }
  if (tf.getGradient('Sum') === undefined) throw new Error('tfjs gradients failed to register');
}

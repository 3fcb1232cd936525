/**
 * Whether an optional package is installed, without loading it. `lab toy train --engine auto` asks
 * whether `@tensorflow/tfjs-node-gpu` is there before it loads tfjs at all: loading tfjs-core and the
 * wasm backend just to learn that the answer is "no GPU, use the JS engine" cost most of a toy run's
 * start-up (issue 16).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** True when `name` resolves from this package (a failure other than "not found" counts as installed, so
 * that loading it reports the real error). */
export function isInstalled(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code !== 'MODULE_NOT_FOUND' && code !== 'ERR_MODULE_NOT_FOUND';
  }
}

/**
 * The ground floor: errors, seeded random numbers, run directories and manifests, progress lines, the
 * WebAssembly emitter, worker threads and package paths. It imports nothing of the project.
 *
 * The tfjs backend is the floor's second entry, `lab/core/backend.ts`: loading tfjs-core costs about
 * 0.33 s here, so code that never touches a tensor (the `lab` command's help and usage errors, run
 * directories, the probe engine's workers) does not load it through this face.
 */
export { LabError, UsageError, InputError, NumericError } from './errors.ts';
export { Rng } from './rng.ts';
export {
  RunDir, readManifest, prepareRunDir, writeJsonAtomic, packageVersions, MANIFEST_VERSION,
  type Manifest, type RunDirOptions,
} from './run-dir.ts';
export { readJson, readFileChecked, writeFileAtomic, writeTarget, cleanTempFiles, MAX_JSON_BYTES } from './safe-fs.ts';
export { lockRunDir, unlockRunDir, holdsRunDir, LOCK_FILE } from './run-lock.ts';
export { canonicalJson, configHash, describeConfigDiff } from './canonical.ts';
export { Progress, formatSeconds, type ProgressOptions } from './progress.ts';
export { uleb, sleb, localGet, localSet, i32Const, section, str, simd, WasmArena, OP, SIMD, T } from './wasm-emit.ts';
export { packageRoot, packagePath } from './paths.ts';
export { startWorker, workerModule } from './worker.ts';
export { isInstalled } from './installed.ts';

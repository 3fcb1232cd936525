/**
 * `import ... from 'neuronlab'`: the package's front door. The results face at the top level (run
 * directories as arquero tables, charts, the HTML report: what a notebook reaches for first), every other
 * face as a namespace. Each face is also its own entry point (`neuronlab/probes`, `neuronlab/toy`, ...; see
 * package.json "exports"), which loads only that room and what it stands on.
 */
export * from '../results/index.ts';
export * as core from './core/index.ts';
export * as backend from './core/backend.ts';
export * as toy from '../activations/toy/index.ts';
export * as activations from '../activations/index.ts';
export * as probes from '../probes/index.ts';
export * as lm from './lm/index.ts';
export * as compress from './compress/index.ts';
export * as demo from './demo/index.ts';

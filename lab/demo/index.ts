/** `lab demo`'s pipeline as a library: the main job end to end on one model, and its printed summary. */
export { runDemo, formatSummary, type DemoOptions, type DemoSummary } from './demo.ts';

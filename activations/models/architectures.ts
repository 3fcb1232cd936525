/**
 * The built-in architectures, in the order help texts list them. Adding one is its own file in this
 * folder (exporting a defineArchitecture spec) plus its entry here: see ADDING_AN_ARCHITECTURE.md.
 */
import { registerArchitecture, supportedModelTypes } from './architecture.ts';
import { gpt2Architecture } from './gpt2.ts';
import { neoxArchitecture } from './neox.ts';
import { llamaArchitecture, mistralArchitecture, qwen2Architecture } from './llama.ts';
import { gemmaArchitecture, gemma2Architecture } from './gemma.ts';
import { gptNeoArchitecture } from './gpt-neo.ts';
import { gptjArchitecture } from './gptj.ts';
import { optArchitecture } from './opt.ts';

const BUILT_IN = [
  gpt2Architecture,
  neoxArchitecture,
  llamaArchitecture,
  mistralArchitecture,
  qwen2Architecture,
  gptNeoArchitecture,
  gptjArchitecture,
  optArchitecture,
  gemmaArchitecture,
  gemma2Architecture,
] as const;

/** The lab's names of the built-in architectures (TransformerConfig.architecture values). */
export type ArchitectureName = (typeof BUILT_IN)[number]['name'];

for (const spec of BUILT_IN) registerArchitecture(spec);

/** config.json model_type values of the built-ins (supportedModelTypes() also lists run-time registrations). */
export const SUPPORTED_ARCHITECTURES: readonly string[] = supportedModelTypes();

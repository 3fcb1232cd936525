/** The lab-trained model that ships with the package (lab/lm/default-model, its MODEL.md says how it was trained). */
import { packagePath } from '../core/index.ts';

export const DEFAULT_MODEL_DIR = packagePath('lab', 'lm', 'default-model');

/** The facts model (lab/lm/facts-model: trained on biographies of its kb.jsonl; its MODEL.md says how). */
export const FACTS_MODEL_DIR = packagePath('lab', 'lm', 'facts-model');

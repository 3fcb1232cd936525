/**
 * The registry of `lab` commands: one entry per user job, each a lazily loaded module in this folder, so
 * `lab --help` and a command's usage errors load nothing but the command they need. Adding a command is
 * one file here plus one entry below; `lab --help` lists this table.
 */
export type Command = (argv: string[]) => Promise<number>;

export interface Entry {
  summary: string;
  load: () => Promise<Command>;
}

/** One line per user job. A room adds its subcommands here when they land. */
export const COMMANDS: Record<string, Entry> = {
  demo: {
    summary: 'the main job end to end: harvest, probe, classify, toy models, HTML dashboard',
    load: async () => (await import('./demo.ts')).demoCommand,
  },
  backend: {
    summary: 'print the active tfjs backend and why each other one is not active',
    load: async () => (await import('./backend.ts')).backendCommand,
  },
  harvest: {
    summary: 'run a model over labelled text (or a toy over its data) and store hook activations with labels',
    load: async () => (await import('./harvest.ts')).harvestCommand,
  },
  store: {
    summary: 'check an activation store: every chunk file against its length and sha256 (verify)',
    load: async () => (await import('./store.ts')).storeCommand,
  },
  verify: {
    summary: 'a fidelity certificate: the lab\'s logits and hooks against values saved from PyTorch, max abs error per array',
    load: async () => (await import('./verify.ts')).verifyCommand,
  },
  inspect: {
    summary: 'run one text through a model: one hook\'s values and the top-5 logits per position (--json)',
    load: async () => (await import('./inspect.ts')).inspectCommand,
  },
  toy: {
    summary: 'train toy models of superposition (train) and sweep phase diagrams (sweep)',
    load: async () => (await import('./toy.ts')).toyCommand,
  },
  probe: {
    summary: 'sweep k-sparse probes over features x hooks x ranking methods x k (resumable)',
    load: async () => (await import('./probe.ts')).probeCommand,
  },
  worker: {
    summary: 'run queued probe jobs from Redis (BullMQ) for lab probe --queue, on this or any machine',
    load: async () => (await import('./worker.ts')).workerCommand,
  },
  classify: {
    summary: 'classify features (dedicated neuron, k*, capacity) and neurons (mono/poly/dead) from a probe run',
    load: async () => (await import('./classify.ts')).classifyCommand,
  },
  neurons: {
    summary: 'the evidence behind neuron labels: top contexts, quantile samples, histograms by feature, logit effects, correlated neurons',
    load: async () => (await import('./neurons.ts')).neuronsCommand,
  },
  capacity: {
    summary: 'importance of each feature (loss increase when its probe direction is ablated) against capacity and mono share, toy beside it',
    load: async () => (await import('./capacity.ts')).capacityCommand,
  },
  ablate: {
    summary: 'mean next-token loss over a text with and without some neurons (zero or mean ablation), in nats and bits/byte',
    load: async () => (await import('./ablate.ts')).ablateCommand,
  },
  sae: {
    summary: 'sparse autoencoders on a store\'s hook: train (topk, relu-l1, jumprelu), eval (toy truth: MMCS), load (SAELens layout)',
    load: async () => (await import('./sae.ts')).saeCommand,
  },
  report: {
    summary: 'write one self-contained HTML dashboard for any mix of run directories',
    load: async () => (await import('./report.ts')).reportCommand,
  },
  lm: {
    summary: 'train the lab\'s own GPT-2 on the Brown corpus (train) and score a checkpoint on its held-out split (eval)',
    load: async () => (await import('./lm.ts')).lmCommand,
  },
  facts: {
    summary: 'write a knowledge base of invented people and single-token facts (kb.jsonl) for lab recall and lab lm train --corpus facts',
    load: async () => (await import('./facts.ts')).factsCommand,
  },
  recall: {
    summary: 'dissect factual recall (Geva et al. 2023): attention knockout, subject enrichment, attribute extraction over a facts file',
    load: async () => (await import('./recall.ts')).recallCommand,
  },
  compress: {
    summary: 'compress a file losslessly with a language model (--report: bits/byte vs gzip, xz, zstd)',
    load: async () => (await import('./compress.ts')).compressCommand,
  },
  decompress: {
    summary: 'restore a file written by lab compress (same model, backend and tfjs version)',
    load: async () => (await import('./compress.ts')).decompressCommand,
  },
};

/**
 * The architecture, checked on every run: floors bottom to top (ROOMS), imports only pointing down, across
 * rooms only through a room's face, no library file importing a command, only the commands (and the roof)
 * touching argv, stdout or exit codes, and no import cycle of any kind (type-only imports and worker modules
 * loaded by URL count). Reads every source file's imports with TypeScript's own pre-processor: milliseconds.
 *
 * Tests (`*.test.ts`, `test-support.ts`, `test-fixtures.ts`, `testdata/`) may also import the roof, to run
 * the real `lab` command end to end. bench/ sits beside the roof and may time named internals. Peer scripts
 * (`peers/`) may read argv. Adding a room is one line in ROOMS.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

interface Room {
  /** Folder of the room, relative to the repository root. */
  dir: string;
  /** Floor number: imports go from a higher floor to a strictly lower one. */
  floor: number;
  /** The files other rooms may import (the room's face). */
  faces: string[];
  what: string;
}

const ROOMS: readonly Room[] = [
  { dir: 'lab/core', floor: 0, faces: ['lab/core/index.ts', 'lab/core/backend.ts'], what: 'errors, rng, run directories, progress, wasm emitter, worker threads, package paths; the tfjs backend (its own face: tfjs costs 0.33 s to load)' },
  { dir: 'activations/toy', floor: 1, faces: ['activations/toy/index.ts', 'activations/toy/kinds.ts'], what: 'toy models of superposition: models with hook points whose features are known' },
  { dir: 'activations', floor: 2, faces: ['activations/index.ts', 'activations/kinds.ts'], what: 'real models with hook points, datasets, the activation store, the harvester' },
  { dir: 'probes', floor: 3, faces: ['probes/index.ts', 'probes/kinds.ts'], what: 'ranking, sparse logistic probes, sweeps, mono/poly/dead classification, capacity' },
  { dir: 'results', floor: 4, faces: ['results/index.ts'], what: 'arquero tables, Vega-Lite charts, the HTML report, notebook faces' },
  { dir: 'lab/lm', floor: 5, faces: ['lab/lm/index.ts'], what: "study: the lab's own language model" },
  { dir: 'lab/capacity', floor: 5, faces: ['lab/capacity/index.ts'], what: 'study: the capacity claim measured: importance by directional ablation against capacity and mono share, toy beside it' },
  { dir: 'lab/compress', floor: 6, faces: ['lab/compress/index.ts'], what: 'study: lossless compression with a language model' },
  { dir: 'lab/queue', floor: 6, faces: ['lab/queue/index.ts'], what: 'study: probe sweeps on many machines, BullMQ jobs on Redis' },
  { dir: 'lab/recall', floor: 6, faces: ['lab/recall/index.ts'], what: 'study: dissecting factual recall (Geva et al. 2023): knockout, enrichment, extraction' },
  { dir: 'lab/demo', floor: 6, faces: ['lab/demo/index.ts'], what: 'study: the main job end to end' },
  { dir: 'lab/commands', floor: 7, faces: ['lab/commands/index.ts'], what: 'one file per `lab` command: flags, one face call, printing' },
  { dir: 'lab', floor: 8, faces: ['lab/cli.ts', 'lab/index.ts', 'lab/cli-test-support.ts'], what: 'the roof: the `lab` command itself' },
];

/** The room a file belongs to (the longest matching folder), or undefined outside every room. */
function roomOf(file: string): Room | undefined {
  let best: Room | undefined;
  for (const r of ROOMS) if (file.startsWith(r.dir + '/') && (!best || r.dir.length > best.dir.length)) best = r;
  return best;
}

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const TOP = ['lab', 'activations', 'probes', 'results', 'bench', 'bin'];
/** Beside the roof: bin/ starts the lab and builds it, bench/ times it against its peers. */
const BESIDE = (f: string) => f.startsWith('bench/') || f.startsWith('bin/');

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(join(repo, dir))) {
    const rel = join(dir, name);
    if (name === 'node_modules' || name === 'default-model') continue;
    if (statSync(join(repo, rel)).isDirectory()) walk(rel, out);
    else if (/\.(ts|mts|mjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

interface Edge {
  from: string;
  to: string;
  line: number;
}

/**
 * Files that must load fast because `lab --help` and every usage error pass through them (the roof, the
 * command files, and the rooms' light faces `kinds.ts` that commands read registries from): what they load
 * at module evaluation (static, non-type imports, followed through the project) may not include a heavy
 * package. Loading tfjs-core alone takes about 0.33 s here; the budget for `lab --help` is 0.25 s.
 */
const LIGHT_FACES = ['lab/core/index.ts', 'activations/toy/kinds.ts', 'activations/kinds.ts', 'probes/kinds.ts'];
const HEAVY = /^(@tensorflow\/|arquero$|vega$|vega-lite$|apache-arrow$|@huggingface\/tokenizers$|highs$|gpt-tokenizer|ml-matrix$|ml-logistic-regression$)/;

/** Static value imports of a file (module evaluation loads these; type-only and dynamic imports do not). */
function staticImports(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(join(repo, file), 'utf8'), ts.ScriptTarget.ES2022, false);
  const out: string[] = [];
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st)) {
      if (st.importClause?.isTypeOnly) continue;
      out.push((st.moduleSpecifier as ts.StringLiteral).text);
    } else if (ts.isExportDeclaration(st) && st.moduleSpecifier && !st.isTypeOnly) {
      out.push((st.moduleSpecifier as ts.StringLiteral).text);
    }
  }
  return out;
}

/** The heavy packages a file loads at module evaluation, with the chain of files that leads to each. */
function heavyLoads(entry: string): string[] {
  const found: string[] = [];
  const seen = new Set<string>();
  const walkFrom = (file: string, chain: string[]): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of staticImports(file)) {
      if (spec.startsWith('.')) walkFrom(normalize(join(dirname(file), spec)), [...chain, file]);
      else if (HEAVY.test(spec)) found.push(`${[...chain, file].join(' -> ')} -> ${spec}`);
    }
  };
  walkFrom(entry, []);
  return found;
}

const isTest = (f: string) => /\.test\.ts$|(^|\/)test-support\.ts$|(^|\/)test-fixtures\.ts$|(^|\/)testdata\//.test(f);

/** Every relative import of a file: static, type-only, re-exports, dynamic import() and new URL(..., import.meta.url). */
function importsOf(file: string): Edge[] {
  const text = readFileSync(join(repo, file), 'utf8');
  const specs: { spec: string; pos: number }[] = ts.preProcessFile(text, true, true).importedFiles.map((f) => ({ spec: f.fileName, pos: f.pos }));
  for (const m of text.matchAll(/new URL\(\s*['"](\.[^'"]+)['"]\s*,\s*import\.meta\.url/g)) specs.push({ spec: m[1]!, pos: m.index! });
  const lineOf = (pos: number) => text.slice(0, pos).split('\n').length;
  return specs
    .filter((s) => s.spec.startsWith('.'))
    .map((s) => ({ from: file, to: normalize(join(dirname(file), s.spec)), line: lineOf(s.pos) }));
}

/** Imports that point to the same or a higher floor (tests may also run the roof). */
function upImports(es: readonly Edge[]): string[] {
  const bad: string[] = [];
  for (const e of es) {
    if (BESIDE(e.from)) continue;
    if (BESIDE(e.to)) {
      // Tests may use the build's own helpers (bin/build-state.mjs); no library file reaches beside the roof.
      if (!isTest(e.from)) bad.push(`${e.from}:${e.line} -> ${e.to} (bin/ and bench/ are beside the roof: no library file imports them)`);
      continue;
    }
    const a = roomOf(e.from);
    const b = roomOf(e.to);
    if (!a || !b || a === b) continue;
    if (isTest(e.from) && b.dir === 'lab') continue;
    if (b.floor >= a.floor) bad.push(`${e.from}:${e.line} -> ${e.to} (floor ${a.floor} ${a.dir} -> floor ${b.floor} ${b.dir})`);
  }
  return bad;
}

/** Imports across rooms that reach past the room's face. */
function faceBypasses(es: readonly Edge[]): string[] {
  const bad: string[] = [];
  for (const e of es) {
    if (BESIDE(e.from)) continue;
    const a = roomOf(e.from);
    const b = roomOf(e.to);
    if (!b || a === b) continue;
    if (!b.faces.includes(e.to)) bad.push(`${e.from}:${e.line} -> ${e.to} (use ${b.faces.join(' or ')})`);
  }
  return bad;
}

/** Library files (not tests, not bench, not commands or the roof) that import a command. */
function commandImports(es: readonly Edge[]): string[] {
  return es
    .filter((e) => !isTest(e.from) && !e.from.startsWith('bench/') && !e.from.startsWith('lab/commands/') && roomOf(e.from)?.dir !== 'lab')
    .filter((e) => e.to.startsWith('lab/commands/'))
    .map((e) => `${e.from}:${e.line} imports the command ${e.to}`);
}

/** Every cycle a depth-first search meets, as `a -> b -> a`. */
function cyclesOf(es: readonly Edge[]): string[] {
  const graph = new Map<string, string[]>();
  for (const e of es) graph.set(e.from, [...(graph.get(e.from) ?? []), e.to]);
  const state = new Map<string, 1 | 2>();
  const cycles: string[] = [];
  const stack: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 1);
    stack.push(f);
    for (const t of graph.get(f) ?? []) {
      if (state.get(t) === 1) cycles.push([...stack.slice(stack.indexOf(t)), t].join(' -> '));
      else if (!state.has(t)) visit(t);
    }
    stack.pop();
    state.set(f, 2);
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  return cycles;
}

const files = TOP.flatMap((d) => walk(d));
const edges = files.flatMap(importsOf);

describe('architecture', () => {
  it('finds the source files and their imports', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(edges.length).toBeGreaterThan(300);
    for (const e of edges) expect(files, `${e.from}:${e.line} imports ${e.to}, which does not exist`).toContain(e.to);
  });

  it('every source file outside bench/ and bin/ belongs to a room', () => {
    const homeless = files.filter((f) => !BESIDE(f) && !roomOf(f));
    expect(homeless).toEqual([]);
  });

  it('imports point only down the floors (tests may also run the roof)', () => {
    expect(upImports(edges)).toEqual([]);
  });

  it("across rooms, imports go through the room's face", () => {
    expect(faceBypasses(edges)).toEqual([]);
  });

  it('no library file imports a command; only commands and the roof touch argv, stdout and exit codes', () => {
    const bad = commandImports(edges);
    const PROCESS = /process\.(argv|exit\b|exitCode|stdout\.write)|console\.log\(/;
    for (const f of files) {
      const room = roomOf(f);
      if (!room || isTest(f) || room.dir === 'lab/commands' || room.dir === 'lab' || /(^|\/)peers\//.test(f)) continue;
      readFileSync(join(repo, f), 'utf8').split('\n').forEach((line, i) => {
        const code = line.replace(/\/\/.*$/, '');
        if (PROCESS.test(code) && !/^\s*\*/.test(code)) bad.push(`${f}:${i + 1} ${line.trim()}`);
      });
    }
    expect(bad).toEqual([]);
  });

  it('has no import cycle, type-only imports and worker modules included', () => {
    expect(cyclesOf(edges)).toEqual([]);
  });

  it('the lab command, every command file and the light faces load no heavy package (--help and usage errors stay fast)', () => {
    // A command parses its flags first and then loads what it runs with `await import(face)`.
    const commands = files.filter((f) => f.startsWith('lab/commands/') && !isTest(f));
    expect(commands.length).toBeGreaterThan(8);
    expect(['lab/cli.ts', ...commands, ...LIGHT_FACES].flatMap(heavyLoads)).toEqual([]);
  });

  it('the checks catch what they forbid', () => {
    expect(heavyLoads('lab/core/backend.ts').some((c) => c.endsWith('@tensorflow/tfjs-core'))).toBe(true);
    const e = (from: string, to: string): Edge => ({ from, to, line: 1 });
    expect(upImports([e('activations/harvest.ts', 'probes/index.ts')])).toHaveLength(1);
    expect(upImports([e('probes/sweep.ts', 'activations/index.ts'), e('lab/commands/probe.test.ts', 'lab/cli-test-support.ts')])).toEqual([]);
    expect(upImports([e('results/report.ts', 'lab/cli.ts')])).toHaveLength(1);
    expect(upImports([e('probes/sweep.ts', 'bench/run.ts')])).toHaveLength(1);
    expect(upImports([e('results/report.ts', 'bin/build-state.mjs')])).toHaveLength(1);
    expect(upImports([e('results/notebooks.test.ts', 'bin/build-state.mjs')])).toEqual([]);
    expect(faceBypasses([e('probes/sweep.ts', 'activations/store/reader.ts')])).toHaveLength(1);
    expect(faceBypasses([e('probes/sweep.ts', 'activations/toy/train.ts')])).toHaveLength(1);
    expect(faceBypasses([e('activations/harvest.ts', 'activations/store/reader.ts'), e('bench/x.ts', 'probes/unit.ts')])).toEqual([]);
    expect(commandImports([e('lab/demo/demo.ts', 'lab/commands/probe.ts')])).toHaveLength(1);
    expect(cyclesOf([e('a.ts', 'b.ts'), e('b.ts', 'c.ts'), e('c.ts', 'a.ts')])).toEqual(['a.ts -> b.ts -> c.ts -> a.ts']);
    expect(cyclesOf([e('a.ts', 'b.ts'), e('a.ts', 'c.ts'), e('c.ts', 'b.ts')])).toEqual([]);
    expect(roomOf('activations/toy/train.ts')!.dir).toBe('activations/toy');
    expect(roomOf('lab/cli.ts')!.dir).toBe('lab');
  });
});

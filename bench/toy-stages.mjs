// Where a whole `lab toy train` process spends its time (issue 16), stage by stage, on the compiled
// package (npm run build first): the same calls as lab/commands/toy.ts, timed in wall and CPU ms.
//   node bench/toy-stages.mjs [toy train flags...]   e.g. --features 20 --hidden 5 --instances 10 --feature-prob 0.05 --steps 1000
// `node_start` is the time from the process's start to this script's first line (node's own bootstrap).
// CPU figures are process.cpuUsage(), which counts every thread (the workers too).
const wall0 = performance.now();
const marks = [['node_start', wall0, 0]];
let lastWall = wall0;
let lastCpu = process.cpuUsage();
const cpu0 = lastCpu;
const mark = (label) => {
  const c = process.cpuUsage(lastCpu);
  const w = performance.now();
  marks.push([label, w - lastWall, (c.user + c.system) / 1000]);
  lastWall = w;
  lastCpu = process.cpuUsage();
};
// The compiled package, by URL (as bin/lab.mjs loads it): dist/ exists only after a build.
const dist = (path) => new URL(`../dist/${path}`, import.meta.url).href;
const { COMMANDS } = await import(dist('lab/commands/index.js'));
mark('load lab/cli + registry');
await COMMANDS.toy.load();
mark('load the toy command');
const toy = await import(dist('activations/toy/index.js'));
mark('load activations/toy');
const { parseFeatureProb } = await import(dist('activations/toy/kinds.js'));
const args = process.argv.slice(2);
const get = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const partial = {
  model: get('model', 'relu-out'), features: Number(get('features', '20')), hidden: Number(get('hidden', '5')),
  instances: Number(get('instances', '10')), feature_prob: parseFeatureProb(get('feature-prob', '0.05')),
  importance_decay: Number(get('importance-decay', '0.9')), steps: Number(get('steps', '1000')), batch: Number(get('batch', '1024')),
  lr: 1e-3, weight_decay: 0.01, seed: Number(get('seed', '1')), engine: 'auto', workers: Number(get('workers', '0')),
};
let firstChunk;
const result = await toy.trainToy(partial, { onProgress: () => (firstChunk ??= performance.now()) });
const trainMs = result.train_seconds * 1000;
const c = process.cpuUsage(lastCpu);
const w = performance.now();
marks.push(['train (workers start, steps)', trainMs, NaN]);
marks.push(['evaluate + describe instances', w - lastWall - trainMs, NaN]);
marks.push(['  (train + evaluate, CPU of every thread)', NaN, (c.user + c.system) / 1000]);
lastWall = w;
lastCpu = process.cpuUsage();
const { mkdtempSync, rmSync } = await import('node:fs');
const { join } = await import('node:path');
const { tmpdir } = await import('node:os');
const dir = mkdtempSync(join(tmpdir(), 'toy-stages-'));
toy.writeToyRun(join(dir, 'run'), result, 'lab toy train (bench/toy-stages.mjs)', {});
JSON.stringify(toy.toyJson(result));
mark('write the run dir + JSON');
rmSync(dir, { recursive: true, force: true });
const total = performance.now();
const ct = process.cpuUsage(cpu0);
process.stdout.write(marks.map(([l, wms, cms]) => `${l.padEnd(46)} ${Number.isFinite(wms) ? wms.toFixed(0).padStart(6) + ' ms' : '         '}${Number.isFinite(cms) ? `  cpu ${cms.toFixed(0)} ms` : ''}`).join('\n') +
  `\n${'total (from process start)'.padEnd(46)} ${total.toFixed(0).padStart(6)} ms  cpu ${((ct.user + ct.system) / 1000).toFixed(0)} ms (process.cpuUsage: every thread, workers included)\n` +
  `steps/s inside train: ${(partial.steps / result.train_seconds).toFixed(1)}\n`);

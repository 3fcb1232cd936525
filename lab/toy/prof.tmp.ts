import { trainJs } from './engine-js.ts';
const [n, m, I, p, steps, path] = process.argv.slice(2);
const N = +n!, M = +m!;
const job = { spec: { model: 'relu-out' as const, n: N, m: M, tied: false }, steps: +steps!, batch: 1024, lr: 1e-3, weightDecay: 0.01, seed: 0,
  importance: Float32Array.from({ length: N }, (_, i) => Math.pow(0.9, i)), instances: Array.from({ length: +I! }, (_, i) => i), probs: new Array(+I!).fill(+p!), path: (path ?? 'auto') as 'auto' };
trainJs({ ...job, steps: 5 });
const c0 = process.cpuUsage(); const t0 = performance.now();
trainJs(job);
const dt = (performance.now() - t0) / 1000; const cu = process.cpuUsage(c0); const cpu = (cu.user + cu.system) / 1e6;
console.log(`n=${N} m=${M} I=${I} p=${p} path=${path ?? 'auto'}: ${(+steps! / dt).toFixed(2)} steps/s wall, ${(+steps! / cpu).toFixed(2)} steps/s cpu`);

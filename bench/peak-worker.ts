/** Worker side of bench/peak.bench.ts: runs the peak loop on its own thread and posts its GFLOP/s. */
import { parentPort, workerData } from 'node:worker_threads';
import { peakGflops } from './peak-kernel.ts';

const { K, seconds } = workerData as { K: number; seconds: number };
parentPort!.postMessage(peakGflops(K, seconds));

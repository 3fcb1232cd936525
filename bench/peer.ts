/**
 * Runs a peer script (PyTorch, scikit-learn) under Debian's /usr/bin/python3, which is where apt puts
 * python3-torch and python3-sklearn. The script prints one JSON object as its last stdout line.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const PEER_PYTHON = process.env.LAB_PEER_PYTHON ?? '/usr/bin/python3';

export function runPeer<T = unknown>(script: string, args: string[], opts: { threads?: number; timeoutMs?: number } = {}): T {
  if (!existsSync(PEER_PYTHON)) {
    throw new Error(`peer python ${PEER_PYTHON} not found: apt-get install python3-torch python3-sklearn`);
  }
  const threads = String(opts.threads ?? 2);
  const res = spawnSync(PEER_PYTHON, [script, ...args], {
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 30 * 60_000,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, OMP_NUM_THREADS: threads, MKL_NUM_THREADS: threads, OPENBLAS_NUM_THREADS: threads },
  });
  if (res.status !== 0) {
    throw new Error(`peer ${script} failed (exit ${res.status}): ${res.stderr.slice(-2000)}`);
  }
  const lines = res.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as T;
}

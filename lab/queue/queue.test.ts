/**
 * Queued probe sweeps and harvests against a real redis-server (started here on a free loopback port,
 * killed at the end) with `lab worker` processes: a worker SIGKILLed mid-job, a coordinator SIGKILLed and
 * rerun, a job failing for a real reason, a queue left by another run, a worker that does not share the
 * run directory's file system, an unreachable Redis and a worker of another lab version. Every finished
 * sweep's tables are compared byte for byte with a local `lab probe --threads 2`, every finished store's
 * files with a local `lab harvest`. One Redis and one set of workers serve every case (starting a node
 * process is most of the time here); the other-version worker runs from a copy of the package, on
 * database 1, so it sees only the run meant for it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainToy, writeToyRun } from '../../activations/toy/index.ts';
import { harvestToy, writeRandomCheckpoint } from '../../activations/index.ts';
import { packagePath } from '../core/index.ts';
import { runLab } from '../cli-test-support.ts';
import { DESCRIPTOR_KEY, QUEUE_NAME, REFUSALS_KEY, labVersions } from './connection.ts';

const haveRedis = spawnSync('redis-server', ['--version']).status === 0;
if (!haveRedis) console.warn('lab/queue tests skipped: redis-server is not installed (apt-get install redis-server; .ci/system-deps installs it)');

const dir = mkdtempSync(join(tmpdir(), 'queue-test-'));
const acts = join(dir, 'acts');
const local = join(dir, 'local');
const modelDir = join(dir, 'gpt2');
const localStore = join(dir, 'local-harvest');
const children: ChildProcess[] = [];
let redis: ChildProcess | undefined;
let url = '';
let otherWorker: ReturnType<typeof lab> | undefined;
let connection = { host: '127.0.0.1', port: 0 };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** `node bin/lab.mjs ...` as a separate process; its stderr is kept for the assertions. */
function lab(...args: string[]): ChildProcess & { log: () => string; exited: Promise<number | null> } {
  return labAt(packagePath(), ...args);
}

/** `node ROOT/bin/lab.mjs ...`: the lab installed at ROOT. */
function labAt(root: string, ...args: string[]): ChildProcess & { log: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [join(root, 'bin/lab.mjs'), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d) => (log += String(d)));
  child.stderr!.on('data', (d) => (log += String(d)));
  children.push(child);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return Object.assign(child, { log: () => log, exited });
}

const worker = () => lab('worker', '--queue', url);
const FAST = ['--lock-duration', '2', '--stalled-interval', '1', '--max-stalled', '3'];
const probeArgs = (out: string, store = acts) => ['probe', '--activations', store, '--methods', 'mean_dif,f_stat', '--k', '1,2,4,8', '--out', out, '--quiet', '--json'];

/** A tiny random GPT-2 over text-props: 450 tokens (31 sequences) in 8 chunks of 51 rows and up, batches of 5 sequences. */
// The queue's workers run the tfjs engine, so the local reference does too (a local harvest's default is onnx).
const harvestArgs = (out: string) => ['harvest', '--model', modelDir, '--dataset', 'text-props', '--max-tokens', '450', '--context', '16',
  '--batch', '5', '--chunk-mb', '0.025', '--engine', 'tfjs', '--out', out, '--quiet', '--json'];

const localChunks = (): number => JSON.parse(readFileSync(join(localStore, 'store.json'), 'utf8')).chunks.length;

/** Every file of the store but the run manifest, byte for byte equal to the local harvest's; nothing else left. */
function expectSameStore(out: string): void {
  const files = (root: string): string[] => (readdirSync(root, { recursive: true }) as string[]).filter((f) => statSync(join(root, f)).isFile()).sort();
  const want = files(localStore).filter((f) => f !== 'manifest.json');
  expect(files(out).filter((f) => f !== 'manifest.json')).toEqual(want);
  for (const f of want) expect(readFileSync(join(out, f)).equals(readFileSync(join(localStore, f))), f).toBe(true);
}

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 110_000): Promise<void> {
  const t0 = Date.now();
  while (!(await ok())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The run's tables and unit files, byte for byte equal to the local run's. */
function expectSameTables(out: string): void {
  for (const f of ['sweep.csv', 'sweep.json']) expect(readFileSync(join(out, f)).equals(readFileSync(join(local, f))), f).toBe(true);
  const units = readdirSync(join(local, 'units')).sort();
  expect(readdirSync(join(out, 'units')).sort()).toEqual(units);
  for (const u of units) expect(readFileSync(join(out, 'units', u), 'utf8')).toBe(readFileSync(join(local, 'units', u), 'utf8'));
}

beforeAll(async () => {
  if (!haveRedis) return;
  const port = await freePort();
  connection = { host: '127.0.0.1', port };
  url = `redis://127.0.0.1:${port}`;
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const toy = await trainToy({ model: 'relu-hidden', features: 12, hidden: 24, instances: 2, feature_prob: [0.1, 0.05], steps: 200, seed: 0, engine: 'js' });
  writeToyRun(join(dir, 'toy'), toy);
  await harvestToy(join(dir, 'toy'), { out: acts, seed: 0, maxTokens: 4000, silent: true });
  // A lab of another version: this package copied with another version number (its own sources, the same
  // node_modules), started now so that its start-up overlaps the other cases.
  const other = join(dir, 'other-lab');
  mkdirSync(other);
  for (const e of readdirSync(packagePath())) {
    if (e === 'node_modules') symlinkSync(packagePath('node_modules'), join(other, e));
    else if (!['.git', 'package.json'].includes(e)) cpSync(packagePath(e), join(other, e), { recursive: true, preserveTimestamps: true });
  }
  const pkg = JSON.parse(readFileSync(packagePath('package.json'), 'utf8'));
  writeFileSync(join(other, 'package.json'), JSON.stringify({ ...pkg, version: '0.0.0-other' }, null, 2));
  otherWorker = labAt(other, 'worker', '--queue', `${url}/1`);
  const ref = await runLab(...probeArgs(local), '--threads', '2');
  expect(ref.code, ref.err).toBe(0);
  writeRandomCheckpoint(modelDir, { architecture: 'gpt2', nLayers: 2, dModel: 16, nHeads: 2, vocabSize: 300, contextLength: 32, seed: 3 });
  const h = await runLab(...harvestArgs(localStore));
  expect(h.code, h.err).toBe(0);
  const ping = new Redis({ ...connection, lazyConnect: true });
  await until('redis-server to answer', () => ping.connect().then(() => true, () => false), 10_000);
  ping.disconnect();
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  redis?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!haveRedis)('lab probe --queue with lab worker processes on a real Redis', () => {
  const workers: ReturnType<typeof lab>[] = [];

  it('a worker SIGKILLed mid-job: its job stalls, another worker runs it, the tables equal the local run', async () => {
    // From the stream's start (this is the Redis's first run): no event is lost before the first read.
    const events = new QueueEvents(QUEUE_NAME, { connection, lastEventId: '0-0' });
    await events.waitUntilReady();
    let firstJob: string | undefined;
    events.on('active', ({ jobId }) => (firstJob ??= jobId));
    const started = [worker(), worker(), worker()];
    // The coordinator runs in this process (no process to start); the workers are separate processes.
    const coord = runLab(...probeArgs(join(dir, 'q1')), '--queue', url, ...FAST);
    // The first job of a fresh worker also starts its engine thread: it is mid-job for a second or more.
    await until('the first job to be active', () => firstJob !== undefined);
    const queue = new Queue(QUEUE_NAME, { connection });
    const by = (await queue.getJob(firstJob!))?.processedBy ?? '';
    await queue.close();
    const first = started.find((w) => by.endsWith(`:${w.pid}`));
    expect(first, `the worker named ${by}`).toBeDefined();
    first!.kill('SIGKILL');
    workers.push(...started.filter((w) => w !== first));
    const res = await coord;
    expect(res.code, res.err).toBe(0);
    await events.close();
    const summary = JSON.parse(res.out);
    expect(summary.computed_units).toBe(48);
    const m = JSON.parse(readFileSync(join(dir, 'q1', 'manifest.json'), 'utf8'));
    expect(m.queue.stalled_jobs).toBeGreaterThanOrEqual(1);
    expect(m.queue).toMatchObject({ lock_duration_ms: 2000, stalled_interval_ms: 1000, max_stalled_count: 3, attempts: 3 });
    // The killed worker finished nothing: every unit was computed by the other two.
    expect(Object.keys(m.queue.jobs_by_worker).filter((w) => w.endsWith(`:${first!.pid}`))).toEqual([]);
    expectSameTables(join(dir, 'q1'));
  });

  it('a coordinator SIGKILLed mid-run resumes on rerun from the unit files and the jobs finished meanwhile', async () => {
    const out = join(dir, 'q2');
    const coord = lab(...probeArgs(out), '--queue', url, ...FAST);
    await until('a few unit files', () => existsSync(join(out, 'units')) && readdirSync(join(out, 'units')).filter((f) => f.endsWith('.json')).length >= 3);
    coord.kill('SIGKILL');
    await coord.exited;
    const again = await runLab(...probeArgs(out), '--queue', url, ...FAST);
    expect(again.code, again.err).toBe(0);
    const s = JSON.parse(again.out);
    expect(s.resumed_units).toBeGreaterThanOrEqual(3);
    expect(s.resumed_units + s.computed_units).toBe(48);
    expectSameTables(out);
  });

  it('a job failing for a real reason fails the run with the worker\'s message; the queue it leaves is refused, then cleared', async () => {
    const store = join(dir, 'acts-copy');
    cpSync(acts, store, { recursive: true });
    const queue = new Queue(QUEUE_NAME, { connection });
    await queue.pause(); // the jobs wait until the store is swapped under them
    const run = runLab(...probeArgs(join(dir, 'q3'), store), '--queue', url, ...FAST);
    await until('the run\'s jobs to be queued', async () => Object.values(await queue.getJobCounts('wait', 'prioritized')).reduce((a, b) => a + b, 0) === 48);
    // Another store at the same path: what a worker sees when it is not looking at the coordinator's file system.
    renameSync(store, join(dir, 'acts-moved'));
    await harvestToy(join(dir, 'toy'), { out: store, seed: 1, maxTokens: 3000, silent: true });
    await queue.resume();
    const res = await run;
    expect(res.code).toBe(1);
    expect(res.err).toMatch(/unit .* failed: [^:]+:\d+: store .*acts-copy on .* is [0-9a-f]+:3000; the coordinator's is [0-9a-f]+:4000/);

    const other = await runLab(...probeArgs(join(dir, 'q4')), '--queue', url, ...FAST);
    expect(other.code).toBe(2);
    expect(other.err).toMatch(/holds the probe run for .*q3 .*pass --clear-queue/);
    const cleared = await runLab(...probeArgs(join(dir, 'q4')), '--queue', url, ...FAST, '--clear-queue');
    expect(cleared.code, cleared.err).toBe(0);
    expectSameTables(join(dir, 'q4'));
    await queue.close();
  });

  it('lab harvest --queue: a worker SIGKILLed mid-chunk, the coordinator SIGKILLed and rerun; the store equals a local harvest byte for byte', async () => {
    const out = join(dir, 'h1');
    const nChunks = localChunks();
    expect(nChunks).toBeGreaterThanOrEqual(6);
    const queue = new Queue(QUEUE_NAME, { connection });
    const client = new Redis(connection);
    const last = await client.xrevrange(queue.keys.events!, '+', '-', 'COUNT', 1);
    const events = new QueueEvents(QUEUE_NAME, { connection, lastEventId: last[0]?.[0] ?? '0-0' });
    await events.waitUntilReady();
    let firstJob: string | undefined;
    const stalled = new Set<string>();
    events.on('active', ({ jobId }) => (firstJob ??= jobId));
    events.on('stalled', ({ jobId }) => stalled.add(jobId));
    await queue.pause(); // every chunk queued before any runs, so the coordinator cannot finish before it is killed
    const coord = lab(...harvestArgs(out), '--queue', url, ...FAST);
    await until('the chunks to be queued', async () => Object.values(await queue.getJobCounts('wait', 'prioritized')).reduce((a, b) => a + b, 0) === nChunks);
    await queue.resume();
    // A worker's first chunk also starts its forward thread: it is mid-job for a second or more.
    await until('the first chunk to be active', () => firstJob !== undefined);
    const by = (await queue.getJob(firstJob!))?.processedBy ?? '';
    const victim = workers.find((w) => by.endsWith(`:${w.pid}`));
    expect(victim, `the worker named ${by}`).toBeDefined();
    victim!.kill('SIGKILL');
    workers.splice(workers.indexOf(victim!), 1);
    const parts = () => (existsSync(join(out, '.queue')) ? readdirSync(join(out, '.queue')).filter((f) => f.endsWith('.part')).length : 0);
    await until('a chunk written by the other worker', () => parts() >= 1);
    await queue.pause();
    coord.kill('SIGKILL');
    await coord.exited;
    await queue.resume();
    const again = await runLab(...harvestArgs(out), '--queue', url, ...FAST);
    expect(again.code, again.err).toBe(0);
    await events.close();
    expectSameStore(out);
    const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    const local = JSON.parse(readFileSync(join(localStore, 'manifest.json'), 'utf8'));
    expect(m.queue).toMatchObject({ lock_duration_ms: 2000, stalled_interval_ms: 1000, max_stalled_count: 3, attempts: 3, forward_split: local.forward_threads });
    // The rerun took what the killed coordinator left: chunks appended, parts written, jobs finished.
    expect(m.resumed_from_chunk + m.queue.parts.found_on_disk + m.queue.collected_from_earlier_coordinator).toBeGreaterThan(0);
    expect(m.resumed_from_chunk + m.queue.parts.found_on_disk + m.queue.parts.from_workers).toBe(nChunks);
    // The killed worker's chunk stalled and was made again by the other worker.
    expect(stalled.has(firstJob!)).toBe(true);
    expect(Object.keys(m.queue.jobs_by_worker).filter((w) => w.endsWith(`:${victim!.pid}`))).toEqual([]);
    await queue.close();
    client.disconnect();
  });

  it('a worker that does not see the run directory fails the chunk, naming the token file; the coordinator fails with its words', async () => {
    const out = join(dir, 'h2');
    const queue = new Queue(QUEUE_NAME, { connection });
    await queue.pause();
    const run = runLab(...harvestArgs(out), '--queue', url, ...FAST);
    await until('the chunks to be queued', async () => Object.values(await queue.getJobCounts('wait', 'prioritized')).reduce((a, b) => a + b, 0) === localChunks());
    // What a worker on another file system sees: no token at the coordinator's path.
    rmSync(join(out, '.queue'), { recursive: true, force: true });
    await queue.resume();
    const res = await run;
    expect(res.code).toBe(1);
    expect(res.err).toMatch(/chunk \d+ \(sequences \d+-\d+\) failed: [^:]+:\d+: \S+ does not share the coordinator's file system: .*h2\/\.queue\/token is missing/);
    await queue.close();
  });

  it('a worker of another lab version refuses the run; the coordinator fails naming both versions', async () => {
    const res = await runLab(...probeArgs(join(dir, 'q6')), '--queue', `${url}/1`, ...FAST);
    expect(res.code).toBe(1);
    const ours = labVersions().neuronlab!.replace(/\./g, '\\.');
    expect(res.err).toMatch(new RegExp(`worker \\S+:${otherWorker!.pid} refused the run: the coordinator \\S+ runs .*neuronlab ${ours}.*; this worker \\S+ runs .*neuronlab 0\\.0\\.0-other`));
    expect(await otherWorker!.exited).toBe(1);
  });

  it('an unreachable Redis is an error within seconds, for the coordinator and for a worker', async () => {
    const dead = `redis://127.0.0.1:${await freePort()}`;
    const t0 = Date.now();
    const p = await runLab(...probeArgs(join(dir, 'q5')), '--queue', dead);
    const w = await runLab('worker', '--queue', dead);
    expect(Date.now() - t0).toBeLessThan(10_000);
    for (const r of [p, w]) {
      expect(r.code).toBe(1);
      expect(r.err).toMatch(new RegExp(`--queue ${dead}: cannot reach Redis`));
    }
  });

  it('a worker of another lab version refuses the run, naming both versions', async () => {
    const client = new Redis(connection);
    const lab = { ...labVersions(), neuronlab: '0.0.0-other' };
    await client.set(DESCRIPTOR_KEY, JSON.stringify({
      run_id: 'other', kind: 'probe', out: '/elsewhere', lab, coordinator: 'otherhost:1', started: new Date().toISOString(),
      settings: { attempts: 1, lock_duration_ms: 2000, stalled_interval_ms: 1000, max_stalled_count: 1 },
    }));
    for (const w of workers) {
      expect(await w.exited).toBe(1);
      const ours = labVersions().neuronlab!.replace(/\./g, '\\.');
      expect(w.log()).toMatch(new RegExp(`refused: the coordinator otherhost:1 runs .*neuronlab 0\\.0\\.0-other.*; this worker .* runs .*neuronlab ${ours}`));
    }
    expect(await client.llen(REFUSALS_KEY)).toBe(workers.length);
    client.disconnect();
  });
});

describe('--queue addresses', () => {
  it('parses redis://[user:password@]host:port[/db] and names the flag on anything else', async () => {
    const { parseQueueUrl } = await import('./connection.ts');
    expect(parseQueueUrl('redis://:s3cret@10.0.0.5:6380/2').connection).toMatchObject({ host: '10.0.0.5', port: 6380, db: 2, password: 's3cret' });
    expect(parseQueueUrl('redis://localhost').connection).toMatchObject({ host: 'localhost', port: 6379, db: 0 });
    expect(() => parseQueueUrl('http://localhost:6379')).toThrow(/--queue must start with redis:\/\//);
    expect(() => parseQueueUrl('localhost:6379')).toThrow(/--queue must/);
    expect(() => parseQueueUrl('redis://localhost:6379/jobs')).toThrow(/the path must be a database number/);
  });
});

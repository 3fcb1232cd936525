/**
 * The Redis side of a queued run: the --queue address, a reachability check that fails in seconds
 * (ioredis otherwise retries forever, and a coordinator pointed at a dead address would hang), the
 * run descriptor a coordinator publishes for its workers, and the versions both sides compare.
 *
 * One Redis database holds one run at a time: a BullMQ queue named QUEUE_NAME, plus two keys of
 * ours beside it (the descriptor and the list of worker refusals). Another run needs another database
 * (redis://host:port/1) or another Redis.
 */
import { hostname } from 'node:os';
import type { RedisOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { InputError, UsageError, packageVersions } from '../core/index.ts';

export const QUEUE_NAME = 'neuronlab';
/** BullMQ's default key prefix; our keys sit beside its keys in the same database. */
const PREFIX = 'neuronlab:run';
export const DESCRIPTOR_KEY = `${PREFIX}:descriptor`;
export const REFUSALS_KEY = `${PREFIX}:refusals`;
/**
 * How long the reachability check waits for an answer before giving up. A refused connection fails at once;
 * this bounds a silent address (a firewall dropping packets). 3 s proved too short for a live Redis on a
 * machine at load 39 (2026-12-01: both workers of a smoke run gave up on a local redis-server).
 */
export const CONNECT_TIMEOUT_MS = 10_000;

export interface QueueAddress {
  url: string;
  /** ioredis options (host, port, db, password) for every BullMQ connection. */
  connection: RedisOptions;
}

/** Parses redis://[user:password@]host:port[/db]; the error names the flag. */
export function parseQueueUrl(url: string, flag = 'queue'): QueueAddress {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`--${flag} must be a redis://HOST:PORT address, got '${url}'`, flag);
  }
  if (u.protocol !== 'redis:') throw new UsageError(`--${flag} must start with redis://, got '${url}'`, flag);
  if (!u.hostname) throw new UsageError(`--${flag} '${url}' has no host`, flag);
  const port = u.port ? Number(u.port) : 6379;
  const path = u.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d+$/.test(path)) throw new UsageError(`--${flag} '${url}': the path must be a database number (e.g. /1)`, flag);
  const connection: RedisOptions = {
    host: u.hostname.replace(/^\[|\]$/g, ''), port, db: path ? Number(path) : 0,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    // BullMQ's workers need it (blocking commands must wait for Redis, not fail after N retries).
    maxRetriesPerRequest: null,
  };
  return { url, connection };
}

/**
 * A client that has answered PING, or an InputError within CONNECT_TIMEOUT_MS naming the address and
 * the cause. The client may then be used for our own keys; BullMQ opens its own connections.
 */
export async function connectChecked(addr: QueueAddress): Promise<Redis> {
  let lastError = '';
  const client = new Redis({
    ...addr.connection, lazyConnect: true, connectTimeout: CONNECT_TIMEOUT_MS, maxRetriesPerRequest: 1,
    retryStrategy: () => null, enableOfflineQueue: false,
  });
  client.on('error', (err: Error) => (lastError = err.message)); // reported below, not as an unhandled event
  const timer = new Promise<never>((_, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer in ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS);
    t.unref();
  });
  try {
    await Promise.race([client.connect().then(() => client.ping()), timer]);
  } catch (err) {
    client.disconnect();
    const why = lastError || (err as Error).message;
    throw new InputError(`--queue ${addr.url}: cannot reach Redis (${why}); start redis-server there or fix the address`, addr.url);
  }
  // From here on the client reconnects like BullMQ's do (a Redis restart is survived, not fatal).
  client.options.retryStrategy = (times: number) => Math.min(times * 200, 2000);
  client.options.maxRetriesPerRequest = null;
  client.options.enableOfflineQueue = true;
  return client;
}

/** What a coordinator publishes: which run the queue holds and how its workers must hold their locks. */
export interface RunDescriptor {
  /** sha1 of the run's kind, output directory and config hash: a rerun of the same command has the same id. */
  run_id: string;
  kind: 'probe' | 'harvest';
  out: string;
  lab: Record<string, string>;
  coordinator: string;
  started: string;
  settings: QueueSettings;
}

/** BullMQ's fault settings; recorded in the run's manifest. */
export interface QueueSettings {
  /** Attempts per job for an ordinary error (an UnrecoverableError fails at once). */
  attempts: number;
  /** A job whose worker stops renewing its lock for this long is stalled. */
  lock_duration_ms: number;
  /** How often each worker looks for stalled jobs. */
  stalled_interval_ms: number;
  /** Stalls a job survives before it fails. */
  max_stalled_count: number;
}

export const DEFAULT_SETTINGS: QueueSettings = { attempts: 3, lock_duration_ms: 30_000, stalled_interval_ms: 30_000, max_stalled_count: 1 };

/**
 * The versions that decide a unit's numbers: the lab and the packages its results depend on (the
 * manifest's list, without node: the engine is deterministic JavaScript and wasm across node versions).
 */
export function labVersions(): Record<string, string> {
  const v = packageVersions(['bullmq']);
  delete v.node;
  return v;
}

export function describeVersions(v: Record<string, string>): string {
  return Object.keys(v).sort().map((k) => `${k} ${v[k]}`).join(', ');
}

/** host:pid, how workers and coordinators name themselves in messages and job records. */
export function whoAmI(): string {
  return `${hostname()}:${process.pid}`;
}

export async function readDescriptor(client: Redis): Promise<RunDescriptor | undefined> {
  const raw = await client.get(DESCRIPTOR_KEY);
  return raw ? (JSON.parse(raw) as RunDescriptor) : undefined;
}

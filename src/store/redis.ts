import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger.js';
import { storageError } from './errors.js';

/**
 * The one ioredis factory. Commands issued while disconnected fail fast instead of queueing forever,
 * so intake can answer 503 rather than hang; reconnects go on in the background.
 */
export function createRedis(url: string, logger?: Logger, extra: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 100, 1000),
    lazyConnect: false,
    ...extra,
  });
  watch(redis, logger);
  typedErrors(redis);
  return redis;
}

/**
 * A Redis Cluster client with the same failure behaviour. All opsbot keys share the hash tag of the
 * prefix (see clusterPrefix), so every script runs on one slot; the Cluster client routes by key and
 * follows failovers and MOVED redirections. Typed as Redis: opsbot uses only the common commands.
 */
export function createRedisCluster(
  nodes: { host: string; port: number }[],
  logger?: Logger,
  extra: RedisOptions = {},
): Redis {
  const cluster = new Cluster(nodes, {
    enableOfflineQueue: true,
    clusterRetryStrategy: (times) => Math.min(times * 100, 1000),
    redisOptions: {
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      ...extra,
    },
  });
  watch(cluster, logger);
  typedErrors(cluster);
  return cluster as unknown as Redis;
}

/**
 * On Redis Cluster every key of a deployment must hash to one slot, because each state change is one
 * atomic script over an incident, its indexes and its outbox queue. A prefix without a hash tag is
 * wrapped in one: `opsbot:` becomes `{opsbot}:` (Redis hashes only the first `{...}` of a key).
 */
export function clusterPrefix(prefix: string): string {
  if (/\{[^}]+\}/.test(prefix)) return prefix;
  return `{${prefix.replace(/:+$/, '') || 'opsbot'}}:`;
}

type Send = (...args: unknown[]) => unknown;
type Pending = { reject: (e: unknown) => void; [typed]?: true };
const typed = Symbol('opsbot.typedErrors');

/**
 * Makes every failure of this client that means "Redis is unavailable" a StorageUnavailableError
 * (see storageError), whether it comes from a command, a script, a pipeline or a transaction; other
 * errors (a wrong type, a script's own error reply) reach the caller unchanged. Each command's
 * rejection is converted where ioredis makes it, so no extra promise is left to reject unheard.
 */
function typedErrors(client: Redis | Cluster) {
  const c = client as unknown as Record<'sendCommand' | 'pipeline' | 'multi', Send>;
  const send = c.sendCommand.bind(client);
  c.sendCommand = (...args) => {
    const cmd = args[0] as Pending;
    if (!cmd[typed]) {
      const reject = cmd.reject;
      cmd.reject = (e) => reject(storageError(e));
      cmd[typed] = true;
    }
    return send(...args);
  };
  for (const name of ['pipeline', 'multi'] as const) {
    const make = c[name].bind(client);
    c[name] = (...args) => {
      const batch = make(...args) as { exec?: Send };
      const exec = batch.exec?.bind(batch);
      if (exec)
        batch.exec = (...a) => {
          const res = exec(...a);
          return res instanceof Promise
            ? res.catch((e: unknown) => {
                throw storageError(e);
              })
            : res;
        };
      return batch;
    };
  }
}

function watch(redis: Redis | Cluster, logger?: Logger) {
  let down = false;
  redis.on('error', (err: Error) => {
    if (!down) logger?.warn({ err }, 'redis connection problem');
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger?.info('redis connection restored');
    down = false;
  });
}

/** True when Redis answers PING within the timeout. */
export async function redisHealthy(redis: Redis, timeoutMs = 1000): Promise<boolean> {
  if (redis.status !== 'ready') return false;
  try {
    const res = await Promise.race([
      redis.ping(),
      new Promise<never>((_, rej) =>
        setTimeout(() => rej(new Error('timeout')), timeoutMs).unref(),
      ),
    ]);
    return res === 'PONG';
  } catch {
    return false;
  }
}

import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger.js';

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
  let down = false;
  redis.on('error', (err: Error) => {
    if (!down) logger?.warn({ err: err.message }, 'redis connection problem');
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger?.info('redis connection restored');
    down = false;
  });
  return redis;
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

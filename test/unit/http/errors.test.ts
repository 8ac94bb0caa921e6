import Fastify, { type FastifyBaseLogger } from 'fastify';
import { ReplyError } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/errors.js';
import { HttpProblem, httpErrorHandler } from '../../../src/http/errors.js';
import { createLogger } from '../../../src/logger.js';
import { StorageUnavailableError } from '../../../src/store/errors.js';
import { createRedis } from '../../../src/store/redis.js';
import { freePort } from '../../helpers/process.js';
import { REDIS_URL, dropPrefix, freshPrefix } from '../../helpers/redis.js';

/** A server with only the central error handler and routes that throw what they are given. */
function appThrowing(errors: Record<string, () => Error>) {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('error', {
    write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>),
  });
  const app = Fastify({ loggerInstance: logger as FastifyBaseLogger });
  app.setErrorHandler(httpErrorHandler);
  for (const [path, make] of Object.entries(errors))
    app.get(`/${path}`, async () => {
      throw make();
    });
  return { app, lines };
}

describe('the central HTTP error handler', () => {
  it('answers a StorageUnavailableError 503 with Retry-After and logs it with its cause', async () => {
    const cause = new ReplyError("READONLY You can't write against a read only replica.");
    const { app, lines } = appThrowing({ down: () => new StorageUnavailableError(cause) });
    const res = await app.inject('/down');
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json()).toEqual({ error: 'storage unavailable, retry later' });
    const line = lines.find((l) => l.msg === 'storage unavailable') as {
      err: { type: string; message: string; stack: string };
      route: string;
    };
    expect(line.route).toBe('/down');
    expect(line.err.type).toBe('StorageUnavailableError');
    // pino writes the cause's message and stack after the error's own
    expect(line.err.message).toBe(
      "storage unavailable: READONLY You can't write against a read only replica.",
    );
    expect(line.err.stack).toContain('caused by: ReplyError: READONLY');
    await app.close();
  });

  it('does not guess from messages: an error that only mentions Redis is a 500 telling nothing', async () => {
    const { app, lines } = appThrowing({ odd: () => new Error('Redis said ECONNREFUSED') });
    const res = await app.inject('/odd');
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: 'internal error' });
    expect(lines.some((l) => l.msg === 'unhandled http error')).toBe(true);
    await app.close();
  });

  it('sends HttpProblems as chosen and ValidationErrors as 400 with their issues', async () => {
    const { app } = appThrowing({
      gone: () => new HttpProblem(429, 'slow down', { retry_after: 3 }, { 'retry-after': '3' }),
      bad: () => new ValidationError('invalid query', [{ path: 'limit', message: 'too big' }]),
    });
    const gone = await app.inject('/gone');
    expect(gone.statusCode).toBe(429);
    expect(gone.headers['retry-after']).toBe('3');
    expect(gone.json()).toEqual({ error: 'slow down', retry_after: 3 });
    const bad = await app.inject('/bad');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({
      error: 'invalid query',
      issues: [{ path: 'limit', message: 'too big' }],
    });
    await app.close();
  });
});

describe('the store client types its failures', () => {
  const prefix = freshPrefix('store-errors');
  afterAll(() => dropPrefix(prefix));

  it('a command on an unreachable Redis rejects with StorageUnavailableError, the ioredis error as cause', async () => {
    const redis = createRedis(`redis://127.0.0.1:${await freePort()}`);
    try {
      const err = await redis.get(`${prefix}x`).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StorageUnavailableError);
      expect((err as Error).cause).toBeInstanceOf(Error);
      const batch = await redis
        .multi()
        .incr(`${prefix}y`)
        .exec()
        .catch((e: unknown) => e);
      expect(batch).toBeInstanceOf(StorageUnavailableError);
    } finally {
      redis.disconnect();
    }
  });

  it('a refused command (wrong type) reaches the caller unchanged', async () => {
    const redis = createRedis(REDIS_URL);
    try {
      await redis.set(`${prefix}s`, 'v');
      const err = await redis.hget(`${prefix}s`, 'f').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ReplyError);
      expect(err).not.toBeInstanceOf(StorageUnavailableError);
    } finally {
      redis.disconnect();
    }
  });
});

import { Writable } from 'node:stream';
import { HttpError } from 'grammy';
import { describe, expect, it } from 'vitest';
import type { FastifyBaseLogger } from 'fastify';
import { createLogger } from '../../src/logger.js';
import Fastify, { LogController } from 'fastify';
import { lazyChild } from '../../src/http/server.js';

function capture() {
  const lines: string[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger('info', dest), lines };
}

describe('logger', () => {
  it('logs an error whole (message, stack, cause) without the Bot API token its cause carries', () => {
    const { logger, lines } = capture();
    const token = '123456:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-ts';
    const cause = new Error(`request to https://api.telegram.org/bot${token}/getUpdates failed`);
    logger.warn({ err: new HttpError("Network request for 'getUpdates' failed!", cause) }, 'x');
    const out = lines.join('');
    expect(out).not.toContain(token);
    const rec = JSON.parse(out) as { err: { message: string; stack: string; error: unknown } };
    expect(rec.err.message).toContain('getUpdates');
    expect(rec.err.stack).toContain('HttpError');
    expect(JSON.stringify(rec.err.error)).toContain('bot[redacted]/getUpdates');
  });
});

describe("a request's logger (fastify's req.log)", () => {
  it('is made on first use, bound to the request, and redacts as the parent does', () => {
    const { logger, lines } = capture();
    let children = 0;
    const parent = new Proxy(logger, {
      get(t, k, r) {
        if (k === 'child') children++;
        return Reflect.get(t, k, r) as unknown;
      },
    }) as unknown as FastifyBaseLogger;
    const log = lazyChild.call(
      {} as never,
      parent,
      { reqId: 'req-7' },
      {},
      {} as never,
    ) as FastifyBaseLogger;
    expect(children).toBe(0); // a request that logs nothing costs no child logger
    log.warn({ headers: { authorization: 'Bearer secret-1234567890' } }, 'http error');
    log.error('again');
    expect(children).toBe(1);
    const recs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(recs.map((r) => [r.reqId, r.msg])).toEqual([
      ['req-7', 'http error'],
      ['req-7', 'again'],
    ]);
    expect(lines.join('')).not.toContain('secret-1234567890');
  });

  it('stays unmade through fastify: a request that logs nothing makes no child, one that logs makes one', async () => {
    const { logger, lines } = capture();
    let children = 0;
    // fastify hands the factory its own logger (a child of ours); count the children made from it
    const counting = (p: FastifyBaseLogger) =>
      new Proxy(p, {
        get(t, k, r) {
          if (k === 'child')
            return (...a: Parameters<FastifyBaseLogger['child']>) => (children++, t.child(...a));
          return Reflect.get(t, k, r) as unknown;
        },
      });
    const app = Fastify({
      loggerInstance: logger as unknown as FastifyBaseLogger,
      logController: new LogController({ disableRequestLogging: true }),
      childLoggerFactory(p, bindings, opts, raw) {
        return lazyChild.call(this, counting(p), bindings, opts, raw);
      },
    });
    app.get('/quiet', async () => 'ok');
    app.get('/loud', async (req) => {
      req.log.warn('http error');
      return 'ok';
    });
    await app.ready();
    for (let i = 0; i < 5; i++) expect((await app.inject('/quiet')).statusCode).toBe(200);
    expect(children).toBe(0);
    await app.inject('/loud');
    expect(children).toBe(1);
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toContain('http error');
    await app.close();
  });
});

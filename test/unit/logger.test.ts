import { Writable } from 'node:stream';
import { Context, HttpError } from 'grammy';
import { describe, expect, it } from 'vitest';
import type { FastifyBaseLogger } from 'fastify';
import { createLogger } from '../../src/logger.js';
import Fastify, { LogController } from 'fastify';
import { lazyChild } from '../../src/http/server.js';
import { opsbotFlavor } from '../../src/bot/flavor.js';
import { parseConfig } from '../../src/config.js';
import { testConfigYaml, GROUP, PEOPLE } from '../helpers/config.js';

/** `l` as it is, but each child made from it is counted by `onChild`. */
function countChildren<L extends object>(l: L, onChild: () => void): L {
  return new Proxy(l, {
    get(t, k, r) {
      const v = Reflect.get(t, k, r) as unknown;
      if (k !== 'child' || typeof v !== 'function') return v;
      return (...a: unknown[]) => (onChild(), (v as (...a: unknown[]) => unknown).apply(t, a));
    },
  });
}

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
    // fastify reads each method of each request's logger: one shared function, nothing made
    const other = lazyChild.call({} as never, parent, { reqId: 'req-8' }, {}, {} as never);
    expect(log.warn).toBe(other.warn);
    expect(log.child).toBe(other.child);
    expect(children).toBe(0);
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
    const counting = (p: FastifyBaseLogger) => countChildren(p, () => children++);
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

describe("an update's logger (ctx.log in the bot)", () => {
  it('is made on first use, once, bound to the update, chat and user', async () => {
    const { logger, lines } = capture();
    let children = 0;
    const counting = countChildren(logger, () => children++);
    const config = parseConfig(testConfigYaml(), {});
    const services = {
      config,
      logger: counting,
      localeOf: () => Promise.resolve('en'),
      t: (_l: string, key: string) => key,
    };
    const ctx = new Context(
      {
        update_id: 77,
        message: {
          message_id: 1,
          date: 0,
          chat: { id: GROUP, type: 'supergroup', title: 'ops' },
          from: { id: PEOPLE.alice, is_bot: false, first_name: 'Alice' },
          text: 'hello',
        },
      } as never,
      undefined as never,
      { id: 1, is_bot: true, first_name: 'opsbot', username: 'opsbot' } as never,
    );
    const run = opsbotFlavor(services as never);
    await run(ctx as never, async () => {
      expect(children).toBe(0); // an update that logs nothing makes no child logger
      const c = ctx as unknown as { log: typeof logger };
      c.log.warn('first');
      c.log.info('second');
      expect(c.log).toBe(c.log);
    });
    expect(children).toBe(1);
    const recs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(recs.map((r) => [r.update, r.chat, r.user, r.msg])).toEqual([
      [77, GROUP, PEOPLE.alice, 'first'],
      [77, GROUP, PEOPLE.alice, 'second'],
    ]);
  });
});

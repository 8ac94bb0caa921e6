import { createHook } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { Composer, Context } from 'grammy';
import type { Update, UserFromGetMe } from 'grammy/types';
import '../../../src/bot/branch.js';

const me = { id: 1, is_bot: true, first_name: 'opsbot', username: 'opsbot' } as UserFromGetMe;
const ctxOf = (u: Partial<Update>) =>
  new Context({ update_id: 1, ...u } as Update, undefined as never, me);
const press = (data: string) =>
  ctxOf({
    callback_query: {
      id: 'q',
      chat_instance: 'x',
      data,
      from: { id: 2, is_bot: false, first_name: 'a' },
    },
  });
const text = (t: string) =>
  ctxOf({
    message: {
      message_id: 1,
      date: 0,
      chat: { id: 3, type: 'private', first_name: 'a' },
      from: { id: 2, is_bot: false, first_name: 'a' },
      text: t,
      entities: t.startsWith('/')
        ? [{ type: 'bot_command', offset: 0, length: t.split(' ')[0]!.length }]
        : [],
    },
  });

/** Runs `c` on `ctx`; the names of the middleware that ran, in order ('next' when it fell through). */
async function trace(c: Composer<Context>, ctx: Context, ran: string[]): Promise<string[]> {
  ran.length = 0;
  await c.middleware()(ctx, async () => void ran.push('next'));
  return [...ran];
}

describe("grammY's branch, built once (src/bot/branch.ts)", () => {
  it('keeps filter, command and callbackQuery routing: a match runs its handler, a miss falls through', async () => {
    const ran: string[] = [];
    const c = new Composer<Context>();
    c.command('ack', () => void ran.push('ack'));
    c.callbackQuery(/^i:/, async (ctx, next) => {
      ran.push(`button ${ctx.callbackQuery.data}`);
      if (ctx.callbackQuery.data === 'i:pass') await next();
    });
    c.filter(
      (ctx) => ctx.message?.text === 'hi',
      () => void ran.push('hi'),
    );
    expect(await trace(c, text('/ack INC-1'), ran)).toEqual(['ack']);
    expect(await trace(c, press('i:ack:1'), ran)).toEqual(['button i:ack:1']);
    expect(await trace(c, press('i:pass'), ran)).toEqual(['button i:pass', 'next']);
    expect(await trace(c, press('x:other'), ran)).toEqual(['next']);
    expect(await trace(c, text('hi'), ran)).toEqual(['hi']);
    expect(await trace(c, text('/other'), ran)).toEqual(['next']);
  });

  it('runs middleware added to a filter after the filter was registered, in order', async () => {
    const ran: string[] = [];
    const c = new Composer<Context>();
    const only = c.filter((ctx) => !!ctx.callbackQuery);
    only.use(async (_ctx, next) => {
      ran.push('first');
      await next();
    });
    // added later, as the declare feature adds its commands to its filtered composer
    only.use(() => void ran.push('second'));
    expect(await trace(c, press('i:ack:1'), ran)).toEqual(['first', 'second']);
    expect(await trace(c, text('/x'), ran)).toEqual(['next']);
  });

  it('takes arrays of middleware on either side, and an async predicate', async () => {
    const ran: string[] = [];
    const c = new Composer<Context>();
    c.branch(
      async (ctx) => Promise.resolve(!!ctx.callbackQuery),
      [
        async (_ctx, next) => {
          ran.push('yes 1');
          await next();
        },
        () => void ran.push('yes 2'),
      ],
      [() => void ran.push('no')],
    );
    expect(await trace(c, press('a'), ran)).toEqual(['yes 1', 'yes 2']);
    expect(await trace(c, text('b'), ran)).toEqual(['no']);
  });

  it('no longer builds a Composer per update at each filter', async () => {
    const c = new Composer<Context>();
    for (let i = 0; i < 20; i++) c.command(`c${i}`, () => undefined);
    const built: number[] = [];
    const original = Composer.prototype.middleware;
    let n = 0;
    // every Composer made while an update runs would be asked for its middleware
    Composer.prototype.middleware = function (this: Composer<Context>) {
      n++;
      return original.call(this);
    };
    try {
      const mw = c.middleware();
      n = 0;
      await mw(press('i:ack:1'), () => Promise.resolve());
      built.push(n);
    } finally {
      Composer.prototype.middleware = original;
    }
    // each link of a chain reads its composer's middleware once per update (grammY's use); grammY's
    // own branch also built a new Composer at each of the 20 commands and read that one too (40+)
    expect(built[0]).toBeLessThanOrEqual(21);
  });
});

describe("grammY's use, run as one list per composer (src/bot/branch.ts)", () => {
  it('runs middleware in the order of use, nested composers included; one that does not call next ends the update', async () => {
    const ran: string[] = [];
    const c = new Composer<Context>();
    c.use(async (_ctx, next) => {
      ran.push('a');
      await next();
      ran.push('a after');
    });
    const inner = c.use((_ctx, next) => {
      ran.push('b');
      return next();
    });
    inner.use((_ctx, next) => {
      ran.push('b.1');
      return next();
    });
    c.use((ctx, next) => (ctx.callbackQuery ? void ran.push('stop') : next()));
    c.use(() => void ran.push('last'));
    expect(await trace(c, text('x'), ran)).toEqual(['a', 'b', 'b.1', 'last', 'a after']);
    expect(await trace(c, press('x'), ran)).toEqual(['a', 'b', 'b.1', 'stop', 'a after']);
    // added to the composer `use` returned, after the update above: runs from now on
    inner.use(() => void ran.push('b.2'));
    expect(await trace(c, text('x'), ran)).toEqual(['a', 'b', 'b.1', 'b.2', 'a after']);
  });

  it('keeps middleware the composer was built with, before those added by use', async () => {
    const ran: string[] = [];
    const c = new Composer<Context>(
      (_ctx, next) => {
        ran.push('built');
        return next();
      },
      (_ctx, next) => {
        ran.push('built 2');
        return next();
      },
    );
    c.use(() => void ran.push('used'));
    expect(await trace(c, text('x'), ran)).toEqual(['built', 'built 2', 'used']);
  });

  it('throws when next is called twice, and turns a throw into a rejection the caller and error boundaries see', async () => {
    const twice = new Composer<Context>();
    twice.use(async (_ctx, next) => {
      await next();
      await next();
    });
    twice.use(() => undefined);
    await expect(twice.middleware()(text('x'), () => Promise.resolve())).rejects.toThrow(
      '`next` already called before!',
    );

    const caught: string[] = [];
    const c = new Composer<Context>();
    c.errorBoundary((err) => void caught.push((err.error as Error).message)).use(() => {
      throw new Error('sync boom');
    });
    c.use(() => void caught.push('after the boundary'));
    await c.middleware()(text('x'), () => Promise.resolve());
    expect(caught).toEqual(['sync boom']);

    const bare = new Composer<Context>();
    bare.use((_ctx, next) => next());
    bare.use(() => {
      throw new Error('deep');
    });
    // from inside next(): a rejected promise, so `next().catch(...)` sees it
    const seen: string[] = [];
    const outer = new Composer<Context>();
    outer.use((ctx, next) => next().catch((e: Error) => void seen.push(e.message)));
    outer.use(bare);
    await outer.middleware()(text('x'), () => Promise.resolve());
    expect(seen).toEqual(['deep']);
  });

  it('makes no promise at a step whose middleware is a plain function', async () => {
    const c = new Composer<Context>();
    for (let i = 0; i < 20; i++) c.use((_ctx, next) => next());
    c.use(() => undefined);
    const mw = c.middleware();
    let promises = 0;
    const hook = createHook({
      init: (_id, type) => {
        if (type === 'PROMISE') promises++;
      },
    });
    hook.enable();
    try {
      await mw(text('x'), () => Promise.resolve());
    } finally {
      hook.disable();
    }
    // grammY's chain made two async functions' promises and more at each of the 21 steps (80+)
    expect(promises).toBeLessThanOrEqual(25);
  });
});

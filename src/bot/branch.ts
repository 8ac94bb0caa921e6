/*
 * Two of grammY's Composer methods, made cheaper per update with the same behaviour (grammY 1.x;
 * test/unit/bot/branch.test.ts holds both to grammY's semantics): `branch` below, and `use` at the
 * end of this file.
 */

import { Composer, type Context, type Middleware, type MiddlewareFn } from 'grammy';

type Predicate<C> = (ctx: C) => boolean | Promise<boolean>;
type Branch = <C extends Context>(
  this: Composer<C>,
  predicate: Predicate<C>,
  trueMiddleware: Middleware<C> | Middleware<C>[],
  falseMiddleware: Middleware<C> | Middleware<C>[],
) => Composer<C>;

/** One middleware function for what `branch` was given, built once. */
function once<C extends Context>(m: Middleware<C> | Middleware<C>[]): MiddlewareFn<C> {
  // a Composer in there is read through its middleware() on every call, as grammY's own flatten
  // does, so middleware added to a filter's composer after the filter was registered still runs
  return new Composer<C>(...(Array.isArray(m) ? m : [m])).middleware();
}

/**
 * grammY's `branch`, behind every `filter`, `on`, `command` and `callbackQuery`, goes through
 * `lazy`, which builds a new Composer for each update at each filter the update meets on its way
 * (some 20 before an incident button's handler). Under 1,000 presses a second that was a third of
 * the bot's allocations and most of its GC. Its branches are fixed when it is called, so building
 * their middleware once behaves the same; this replaces it for every Composer, the Bot included.
 * Applied once, when this module is first imported.
 */
const fastBranch: Branch = function (predicate, trueMiddleware, falseMiddleware) {
  const yes = once(trueMiddleware);
  const no = once(falseMiddleware);
  // a plain function, not an async one: most predicates answer at once (a filter query, a command
  // name), and an update passes some 20 of them, so no promise or async frame is made for those
  return this.use((ctx, next) => {
    const ok = predicate(ctx);
    if (typeof ok === 'boolean') return ok ? yes(ctx, next) : no(ctx, next);
    return ok.then((v) => (v ? yes(ctx, next) : no(ctx, next)));
  });
};

(Composer.prototype as unknown as { branch: Branch }).branch = fastBranch;

type Next = () => Promise<void>;
type Fn = (ctx: Context, next: Next) => unknown;
type Patched = { handler: Fn; [LIST]?: Fn[] };
const LIST = Symbol('opsbot.middleware');
/** grammY's handler of a composer with no middleware (its `pass`, not exported). */
const PASS = new Composer().middleware();

/**
 * The middleware of `list` in order over one update, each given a `next` that runs the rest and
 * then `done`. grammY chains `use` calls as nested async functions, so each update paid two async
 * frames, two promises and a closure at every middleware it passed (some 20 for a button press, a
 * sixth of a press's allocations). Here a step is a plain call, and only the middleware that are
 * async make promises. A `next` called twice throws, as in grammY.
 */
function sequence(list: Fn[]): Fn {
  return (ctx, done) => {
    const step = (i: number): unknown => {
      const mw = list[i];
      if (!mw) return done();
      let called = false;
      return mw(ctx, () => {
        if (called) throw new Error('`next` already called before!');
        called = true;
        try {
          return Promise.resolve(step(i + 1)) as Promise<void>;
        } catch (e) {
          return Promise.reject(e as Error);
        }
      });
    };
    return step(0);
  };
}

/**
 * `use` keeps a composer's middleware in a list run by `sequence`; the composer it returns is read
 * at each update (as grammY's own `flatten` does), so middleware added to it later still runs.
 */
function fastUse(this: Composer<Context>, ...middleware: Middleware<Context>[]) {
  const composer = new Composer(...middleware);
  const self = this as unknown as Patched;
  let list = self[LIST];
  if (!list) {
    list = self[LIST] = self.handler === PASS ? [] : [self.handler];
    self.handler = sequence(list);
  }
  list.push((ctx, next) => composer.middleware()(ctx, next));
  return composer;
}

(Composer.prototype as unknown as { use: typeof fastUse }).use = fastUse;

// both replacements lean on grammY 1.x keeping a composer's middleware in `handler` (what
// `middleware()` returns); a grammY that no longer does fails here, at start, not on some update
{
  const probe = new Composer<Context>();
  probe.use(() => undefined);
  if (probe.middleware() !== (probe as unknown as Patched).handler)
    throw new Error("grammY's Composer changed: src/bot/branch.ts no longer fits it");
}

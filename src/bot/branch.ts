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
  return this.use(async (ctx, next) => ((await predicate(ctx)) ? yes(ctx, next) : no(ctx, next)));
};

(Composer.prototype as unknown as { branch: Branch }).branch = fastBranch;

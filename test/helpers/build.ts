import { afterAll, afterEach } from 'vitest';
import type { OpsbotConfig } from '../../src/config.js';
import { startTestApp, type TestApp } from './app.js';
import { dropPrefix, freshPrefix } from './redis.js';
import { startTelegram, type TelegramKit } from './telegram.js';

type Teardown = () => Promise<void> | void;

// Importing this module registers, on the importing test file, the hooks that undo every build():
// vitest evaluates a test file's imports while it collects that file, and afterAll hooks run in
// reverse order, so these run after the file's own afterAll/afterEach hooks.
const perFile: Teardown[] = [];
const perTest: Teardown[] = [];
async function drain(list: Teardown[]) {
  const errors: unknown[] = [];
  for (const fn of list.splice(0).reverse()) {
    try {
      await fn();
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length) throw new AggregateError(errors, 'test teardown failed');
}
afterAll(() => drain(perFile));
afterEach(() => drain(perTest));

export interface BuildOptions extends Omit<
  Parameters<typeof startTestApp>[0],
  'apiRoot' | 'token'
> {
  /** The emulator's storeTimeout (seconds). */
  storeTimeout?: number;
  /** An emulator kit started elsewhere: not stopped by this build. */
  kit?: TelegramKit;
  /** Label of the fresh Redis key prefix (when `prefix` is not given). */
  label?: string;
  /** How many apps (replicas) to start on the one prefix and emulator; `t` is the first. */
  replicas?: number;
  /** Undo after each test (build() called from beforeEach or a test) instead of after the file. */
  each?: boolean;
}

export interface Built {
  kit: TelegramKit;
  /** The (first) app. */
  t: TestApp;
  /** Every replica started, `t` first. */
  apps: TestApp[];
  prefix: string;
  /** Base URL of the (first) app's HTTP server. */
  url: string;
  config: OpsbotConfig;
}

/**
 * Starts the Bot API emulator (unless `kit` is given) and opsbot against it on a fresh Redis key
 * prefix, and registers their teardown: apps stopped, emulator stopped, prefix dropped, after the
 * test file (or after the test, with `each`). Call it from beforeAll (or beforeEach with `each`).
 */
export async function build(o: BuildOptions = {}): Promise<Built> {
  const { storeTimeout, kit: given, label, replicas = 1, each, ...appOptions } = o;
  const undo = each ? perTest : perFile;
  const prefix = o.prefix ?? freshPrefix(label);
  undo.push(() => dropPrefix(prefix));
  let kit = given;
  if (!kit) {
    const started = await startTelegram({ storeTimeout });
    undo.push(() => started.stop());
    kit = started;
  }
  const apps: TestApp[] = [];
  for (let i = 0; i < replicas; i++) {
    const app = await startTestApp({
      ...appOptions,
      apiRoot: kit.apiRoot,
      token: kit.token,
      prefix,
    });
    undo.push(() => app.stop());
    apps.push(app);
  }
  const t = apps[0]!;
  return { kit, t, apps, prefix, url: t.url, config: t.config };
}

import { buildApp, type App, type AppOptions } from '../../src/app.js';
import type { Clock } from '../../src/clock.js';
import type { OpsbotConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { GROUP, TOKENS, testConfig } from './config.js';
import type { TelegramKit } from './telegram.js';

export { REDIS_URL, dropPrefix, freshPrefix } from './redis.js';
import { REDIS_URL, freshPrefix } from './redis.js';

export interface TestApp {
  app: App;
  prefix: string;
  /** Base URL of the HTTP server. */
  url: string;
  config: OpsbotConfig;
  stop(): Promise<void>;
}

/** Builds and starts opsbot in-process against the emulator (apiRoot) with a fresh Redis prefix. */
export async function startTestApp(o: {
  apiRoot: string;
  token: string;
  config?: OpsbotConfig;
  clock?: Clock;
  prefix?: string;
  polling?: boolean;
  extra?: Partial<AppOptions>;
  env?: Partial<AppOptions['env']>;
}): Promise<TestApp> {
  const prefix = o.prefix ?? freshPrefix();
  const config = o.config ?? testConfig();
  const app = buildApp({
    config,
    env: {
      botToken: o.token,
      apiRoot: o.apiRoot,
      redisUrl: REDIS_URL,
      redisPrefix: prefix,
      httpHost: '127.0.0.1',
      httpPort: 0,
      ...o.env,
    },
    clock: o.clock,
    logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    defaultMetrics: false,
    progressIntervalMs: 100,
    pollMs: 50,
    ...o.extra,
  });
  await app.start({ polling: o.polling });
  const addr = app.http.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    app,
    prefix,
    url: `http://127.0.0.1:${port}`,
    config,
    async stop() {
      await app.stop();
    },
  };
}

/** POSTs JSON with an optional bearer token. */
export async function post(
  url: string,
  body: unknown,
  token?: string,
  headers: Record<string, string> = {},
) {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json as Record<string, unknown>, headers: res.headers };
}

/**
 * A generic alert opens an incident in the group; resolves with its id, number and card once the
 * card, with its buttons, reached the group.
 */
export async function openIncident(t: TestApp, kit: TelegramKit, title: string) {
  const r = await post(
    `${t.url}/hooks/generic`,
    { title, status: 'firing', severity: 'error', dedup_key: title },
    TOKENS.ci,
  );
  const id = (r.body.incidents as string[])[0]!;
  const msg = await kit.waitForMessage(
    (m) => m.chatId === GROUP && m.text.includes(`<code>${id}</code>`) && m.buttons.length > 0,
    { label: `message of ${id}` },
  );
  return { id, seq: Number(id.slice(4)), msg };
}

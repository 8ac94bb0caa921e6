import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import type { NotifierConfig, OpsbotConfig } from '../config.js';
import type { Incident } from '../domain/incident.js';
import type { EffectPlan, IncidentRepository } from '../incidents/repository.js';
import { parseChatKey } from '../incidents/routing.js';
import type { Logger } from '../logger.js';
import type { Keys } from '../store/keys.js';
import type { TimerData, TimerService } from './timers.js';

/** Retries of one delivery stop this long after the level fired. */
export const WEBHOOK_RETRY_WINDOW = 10 * 60_000;
const FIRST_BACKOFF = 5_000;
const MAX_BACKOFF = 120_000;

/** Delay before retry number `attempt + 1`: 5s, 10s, 20s, ... at most 2 min. */
export function webhookBackoff(attempt: number): number {
  return Math.min(FIRST_BACKOFF * 2 ** attempt, MAX_BACKOFF);
}

export const webhookTimerId = (
  inc: string,
  loop: number,
  level: number,
  notifier: string,
  attempt: number,
) => `wh:${inc}:${loop}:${level}:${notifier}:${attempt}`;

/**
 * The first delivery of `webhook:NAME` for a level that fires: a durable timer due now, added in the
 * same atomic step (and under the same once-marker) as the level's pages, so each level calls each
 * notifier once across replicas; retries are further timers, so they survive restarts.
 */
export function webhookTimer(
  inc: string,
  loop: number,
  level: number,
  notifier: string,
  now: number,
  who: { people: string[]; chats: string[] },
): { id: string; due: number; data: TimerData } {
  return {
    id: webhookTimerId(inc, loop, level, notifier, 0),
    due: now,
    data: {
      kind: 'webhook',
      inc,
      loop,
      level,
      notifier,
      attempt: 0,
      first: now,
      due: now,
      people: who.people.join(', '),
      chat: who.chats.join(', '),
    },
  };
}

type BodyMode = 'json' | 'form' | 'text';

function headerValue(headers: Record<string, string>, name: string): string | undefined {
  const k = Object.keys(headers).find((h) => h.toLowerCase() === name);
  return k ? headers[k] : undefined;
}

/** How template values are escaped: by the declared content type, else JSON when the body is a JSON template. */
export function bodyMode(n: Pick<NotifierConfig, 'headers' | 'body'>): BodyMode {
  const type = headerValue(n.headers, 'content-type')?.toLowerCase();
  if (type?.includes('json')) return 'json';
  if (type?.includes('x-www-form-urlencoded')) return 'form';
  if (type) return 'text';
  if (n.body === undefined) return 'json';
  // JSON when the template is a JSON object or array once its variables stand for a value
  try {
    const doc: unknown = JSON.parse(n.body.replace(/\{\{\s*[a-z]+\s*\}\}/g, '0'));
    return doc !== null && typeof doc === 'object' ? 'json' : 'text';
  } catch {
    return 'text';
  }
}

/**
 * Fills `{{name}}` in a notifier body. Values are JSON-escaped in a JSON body, URL-encoded in a form
 * body and placed as they are in plain text. Without a body: a JSON object of all variables.
 */
export function renderWebhookBody(
  n: Pick<NotifierConfig, 'headers' | 'body'>,
  vars: Record<string, string>,
): string {
  if (n.body === undefined) return JSON.stringify(vars);
  const mode = bodyMode(n);
  const esc = (v: string) =>
    mode === 'json' ? JSON.stringify(v).slice(1, -1) : mode === 'form' ? encodeURIComponent(v) : v;
  return n.body.replace(/\{\{\s*([a-z]+)\s*\}\}/g, (m, name: string) =>
    name in vars ? esc(vars[name]!) : m,
  );
}

/** A link to the incident's first posted message (supergroups only: t.me/c/<id>/<message>). */
function messageLink(chatKey: string | undefined, messageId: string | undefined): string {
  if (!chatKey || !messageId) return '';
  const { chatId } = parseChatKey(chatKey);
  const s = String(chatId);
  return s.startsWith('-100') ? `https://t.me/c/${s.slice(4)}/${messageId}` : '';
}

export interface WebhookDeps {
  redis: Redis;
  keys: Keys;
  clock: Clock;
  config: OpsbotConfig;
  repo: IncidentRepository;
  timers: TimerService;
  logger: Logger;
}

/**
 * Delivers `webhook:NAME` escalation targets (phone calls, SMS and push through ntfy, Twilio,
 * Pushover...). At least once: a delivery is a durable timer that is settled only after the request
 * answered; failures are retried with backoff for up to 10 minutes after the level fired. Each outcome
 * goes to the incident timeline (`webhook phone → 200`). No redirects are followed (a 3xx is a
 * failure), each request times out, and secrets come only from `${VAR}` in the config.
 */
export function createWebhookNotifier(deps: WebhookDeps) {
  const { redis, keys, clock, config, repo, timers, logger } = deps;
  const pending = new Set<Promise<void>>();

  function entry(inc: string, text: string, data: Record<string, unknown>) {
    return [{ inc, entry: { t: clock.now(), type: 'webhook', actor: 'opsbot', text, data } }];
  }

  async function send(
    n: NotifierConfig,
    inc: Incident,
    data: TimerData,
  ): Promise<{ status?: number; error?: string }> {
    const messages = await repo.messages(inc.id);
    const firstChat = inc.chats.find((c) => messages[c]) ?? Object.keys(messages)[0];
    const vars: Record<string, string> = {
      id: inc.id,
      title: inc.title,
      severity: inc.severity,
      state: inc.state,
      level: String(Number(data.level) + 1),
      people: String(data.people ?? ''),
      chat: String(data.chat ?? ''),
      link: messageLink(firstChat, firstChat ? messages[firstChat] : undefined),
    };
    const headers: Record<string, string> = { 'user-agent': 'opsbot', ...n.headers };
    let body: string | undefined;
    if (n.method !== 'GET') {
      body = renderWebhookBody(n, vars);
      if (!headerValue(n.headers, 'content-type'))
        headers['content-type'] =
          bodyMode(n) === 'json' ? 'application/json' : 'text/plain; charset=utf-8';
    }
    try {
      const res = await fetch(n.url, {
        method: n.method,
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(n.timeout),
      });
      await res.body?.cancel().catch(() => undefined);
      return { status: res.status };
    } catch (e) {
      const err = e as Error & { cause?: { code?: string } };
      const reason =
        err.name === 'TimeoutError' ? 'timeout' : (err.cause?.code ?? err.message).slice(0, 100);
      return { error: reason };
    }
  }

  async function deliver(id: string, data: TimerData): Promise<void> {
    const incId = String(data.inc);
    const name = String(data.notifier);
    const attempt = Number(data.attempt);
    const first = Number(data.first);
    const settle: EffectPlan = { once: id, release: id };
    const n = config.notifiers[name];
    const inc = await repo.get(incId);
    if (!n || !inc) return void (await repo.apply(settle));
    if (inc.state !== 'triggered') {
      // someone took it (or it resolved) before the call went out: do not ring a phone for nothing
      await repo.apply({
        ...settle,
        timeline: entry(incId, `webhook ${name} → not sent (${inc.state})`, { notifier: name }),
      });
      return;
    }
    const r = await send(n, inc, data);
    const now = clock.now();
    const ok = r.status !== undefined && r.status >= 200 && r.status < 300;
    // 4xx other than 408/425/429 and 3xx (redirects are not followed) will not change by retrying
    const permanent =
      r.status !== undefined &&
      ((r.status >= 300 && r.status < 500 && ![408, 425, 429].includes(r.status)) ||
        (r.status >= 100 && r.status < 200));
    const outcome = r.status !== undefined ? String(r.status) : `error: ${r.error}`;
    const info = { notifier: name, attempt: attempt + 1, status: r.status ?? null };
    if (ok) {
      logger.info({ inc: incId, notifier: name, status: r.status }, 'webhook delivered');
      await repo.apply({ ...settle, timeline: entry(incId, `webhook ${name} → ${outcome}`, info) });
      return;
    }
    const delay = webhookBackoff(attempt);
    if (permanent || now + delay > first + WEBHOOK_RETRY_WINDOW) {
      logger.warn({ inc: incId, notifier: name, outcome }, 'webhook failed; giving up');
      await repo.apply({
        ...settle,
        timeline: entry(
          incId,
          `webhook ${name} → ${outcome}, gave up after ${attempt + 1} attempt${attempt ? 's' : ''}`,
          info,
        ),
      });
      return;
    }
    logger.warn({ inc: incId, notifier: name, outcome, retryInMs: delay }, 'webhook failed');
    const nid = webhookTimerId(incId, Number(data.loop), Number(data.level), name, attempt + 1);
    await repo.apply({
      ...settle,
      timeline: entry(incId, `webhook ${name} → ${outcome}, retry in ${delay / 1000}s`, info),
      timers: [
        { id: nid, due: now + delay, data: { ...data, attempt: attempt + 1, due: now + delay } },
      ],
    });
    timers.notify();
  }

  timers.register('webhook', async (id, data) => {
    const n = config.notifiers[String(data.notifier)];
    // a request may outlast the timer lease: keep the claim until it has answered or timed out, so
    // no other replica sends it meanwhile (a crashed sender's claim still runs out and is retried)
    await redis.zadd(keys.timerInflight(), 'XX', clock.now() + (n?.timeout ?? 10_000) + 5_000, id);
    // delivery runs beside the timer loop, so a slow receiver never delays other escalations
    const p = deliver(id, data)
      .catch((e: Error) =>
        logger.error({ id, err: e.message }, 'webhook delivery failed; retried after its lease'),
      )
      .finally(() => pending.delete(p));
    pending.add(p);
  });

  return {
    /** Resolves when deliveries in flight have finished (for shutdown and tests). */
    async drain(): Promise<void> {
      while (pending.size) await Promise.all([...pending]);
    },
  };
}

export type WebhookNotifier = ReturnType<typeof createWebhookNotifier>;

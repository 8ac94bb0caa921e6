import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import type { NotifierConfig, OpsbotConfig } from '../config.js';
import type { Incident } from '../domain/incident.js';
import type { EffectPlan, IncidentRepository } from '../store/incidents.js';
import { parseChatKey } from '../incidents/routing.js';
import type { Logger } from '../logger.js';
import type { Keys } from '../store/keys.js';
import { createScripts } from '../store/scripts.js';
import type { TimerData, TimerService } from './timers.js';

/** Retries of one delivery stop this long after the level fired. */
export const WEBHOOK_RETRY_WINDOW = 10 * 60_000;
const FIRST_BACKOFF = 5_000;
/** Requests one replica has under way at once (more wait their turn, before their timeout starts). */
export const WEBHOOK_CONCURRENCY = 32;
/** How long a delivery's hold outlives its request timeout unless renewed (a crashed holder's runs out). */
const HOLD_MARGIN = 5_000;
const HOLD_RENEW_EVERY = 2_000;
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
 * Pushover...). A delivery is a durable timer that is settled only after the request answered;
 * failures are retried with backoff for up to 10 minutes after the level fired. Once per level across
 * replicas: just before the request, the replica takes the delivery's hold (timer_hold.lua), which it
 * renews while the request runs and drops when it settles, so a claim that outlived its lease and was
 * claimed again elsewhere never sends twice; only a crashed holder's delivery is sent again, once its
 * hold ran out (at least once across a crash). Each outcome
 * goes to the incident timeline (`webhook phone → 200`). No redirects are followed (a 3xx is a
 * failure), each request times out, and secrets come only from `${VAR}` in the config.
 */
export function createWebhookNotifier(deps: WebhookDeps) {
  const { redis, keys, clock, config, repo, timers, logger } = deps;
  const scripts = createScripts(redis, keys);
  const pending = new Set<Promise<void>>();
  /** This replica's identity as a holder; deliveries queued or under way here, by timer id. */
  const holder = randomUUID();
  const mine = new Set<string>();
  /** Holds being renewed (timer id -> hold ms). */
  const holds = new Map<string, number>();
  let renewer: NodeJS.Timeout | undefined;
  let sending = 0;
  const waiting: (() => void)[] = [];

  async function slot(): Promise<() => void> {
    if (sending >= WEBHOOK_CONCURRENCY) await new Promise<void>((r) => waiting.push(r));
    else sending++;
    return () => {
      const next = waiting.shift();
      if (next) next();
      else sending--;
    };
  }

  function renewHolds() {
    for (const [id, ms] of holds)
      void scripts
        .timerHoldRenew(id, holder, ms)
        .catch((e: Error) => logger.warn({ id, err: e.message }, 'webhook hold renewal failed'));
  }

  /** Takes the one right to send this delivery, or says why not ('busy' elsewhere, 'done'). */
  async function hold(id: string, ms: number): Promise<string> {
    const r = await scripts.timerHold({
      now: clock.now(),
      id,
      holder,
      holdMs: ms,
      leaseMs: timers.leaseMs,
    });
    if (r === 'ok') {
      holds.set(id, ms);
      renewer ??= setInterval(renewHolds, HOLD_RENEW_EVERY).unref();
    }
    return r;
  }

  function unhold(id: string) {
    holds.delete(id);
    if (!holds.size && renewer) {
      clearInterval(renewer);
      renewer = undefined;
    }
  }

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
    const n = config.notifiers[name];
    // the hold is dropped in the same step that settles the delivery
    const settle: EffectPlan = { once: id, release: id, del: [keys.timerSend(id)] };
    if (!n) return void (await repo.apply(settle));
    const held = await hold(id, n.timeout + HOLD_MARGIN);
    if (held !== 'ok') {
      logger.debug({ id, held }, 'webhook delivery taken elsewhere or settled; not sent here');
      return;
    }
    const inc = await repo.get(incId);
    if (!inc) return void (await repo.apply(settle));
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

  timers.register('webhook', (id, data) => {
    // this replica claimed it again (its lease ran out while it waited here): it is already queued
    if (mine.has(id)) return Promise.resolve();
    mine.add(id);
    // delivery runs beside the timer loop, so a slow receiver never delays other escalations; at
    // most WEBHOOK_CONCURRENCY requests at once, and a request's timeout starts when it is sent
    const p = slot()
      .then(async (done) => {
        try {
          await deliver(id, data);
        } finally {
          done();
        }
      })
      .catch((e: Error) =>
        logger.error({ id, err: e.message }, 'webhook delivery failed; retried after its lease'),
      )
      .finally(() => {
        unhold(id);
        mine.delete(id);
        pending.delete(p);
      });
    pending.add(p);
    return Promise.resolve();
  });

  return {
    /** Resolves when deliveries in flight have finished (for shutdown and tests). */
    async drain(): Promise<void> {
      while (pending.size) await Promise.all([...pending]);
    },
  };
}

export type WebhookNotifier = ReturnType<typeof createWebhookNotifier>;

import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Update } from 'grammy/types';
import type { OpsbotConfig, IntegrationConfig } from '../config.js';
import { ValidationError } from '../errors.js';
import type { Heartbeats } from '../intake/heartbeat.js';
import { parseAlertmanager, parseEventsV2, parseGeneric, parseGrafana } from '../intake/index.js';
import type { Alert } from '../domain/alert.js';
import { normalizeIncidentId } from '../domain/incident.js';
import type { PageState } from '../incidents/repository.js';
import { buildPostmortem } from '../reports/postmortem.js';
import type { Services } from '../services.js';
import { bearer, matchToken, safeEqual } from './auth.js';
import { opsgenieRoutes } from './opsgenie.js';
import { calendarRoutes } from './calendar.js';
import { own } from '../own.js';
import { RateLimitedError } from '../intake/service.js';

/** The 202 answer of the hook routes, serialised without a schema lookup or a generic stringify. */
function serializeAccepted(payload: { accepted: number; incidents: string[] }): string {
  return `{"accepted":${payload.accepted},"incidents":${JSON.stringify(payload.incidents)}}`;
}

export const BODY_LIMIT = 1024 * 1024;
/**
 * `/v2/enqueue` carries its credential (`routing_key`) in the body, so its body must be read before
 * the sender is known: it gets a smaller limit, PagerDuty's own 512 KiB per event.
 */
export const EVENTS_V2_BODY_LIMIT = 512 * 1024;

declare module 'fastify' {
  interface FastifyRequest {
    /** The intake integration (config name) its onRequest hook authenticated; '' elsewhere. */
    opsbotIntegration: string;
  }
}

/** Timeline entries per incident in a list page (the newest); the single-incident route has all. */
export const LIST_TIMELINE_ENTRIES = 20;
const LIST_STATES = ['open', 'triggered', 'acknowledged', 'resolved', 'all'] as const;

/** `?state=&limit=&cursor=` of the read API; a bad value is a 400 naming the parameter. */
function parseListQuery(q: Record<string, unknown>): {
  state: PageState;
  limit: number;
  cursor?: number;
} {
  const issues: { path: string; message: string }[] = [];
  const one = (k: string) => {
    const v = q[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') {
      issues.push({ path: k, message: 'expected one value' });
      return undefined;
    }
    return v;
  };
  const state = one('state') ?? 'all';
  if (!(LIST_STATES as readonly string[]).includes(state))
    issues.push({ path: 'state', message: `expected one of ${LIST_STATES.join(', ')}` });
  const rawLimit = one('limit');
  const limit = rawLimit === undefined ? 100 : Number(rawLimit);
  if (!/^\d+$/.test(rawLimit ?? '100') || !Number.isInteger(limit) || limit < 1 || limit > 1000)
    issues.push({ path: 'limit', message: 'expected a whole number from 1 to 1000' });
  const rawCursor = one('cursor');
  let cursor: number | undefined;
  if (rawCursor !== undefined && rawCursor !== '') {
    const id = normalizeIncidentId(rawCursor);
    if (!id) issues.push({ path: 'cursor', message: 'expected next_cursor of a previous page' });
    else cursor = Number(id.slice(4));
  }
  if (issues.length) throw new ValidationError('invalid query', issues);
  return { state: state as PageState, limit, cursor };
}

/**
 * Errors meaning "Redis did not take the write": connection loss, and the replies a failover or a
 * full server gives (READONLY replica, OOM, LOADING, MASTERDOWN, NOPERM, ...). Intake answers 503
 * for all of them, so a sender retries instead of trusting a 202 for data that was never stored.
 */
const STORAGE_DOWN =
  /Connection is closed|ECONNREFUSED|Redis|max retries|Stream isn't writeable|EPIPE|ETIMEDOUT|ECONNRESET/i;
const STORAGE_REPLY =
  /^(READONLY|OOM|LOADING|MASTERDOWN|NOPERM|NOREPLICAS|BUSY|CLUSTERDOWN|TRYAGAIN|MISCONF|NOSCRIPT)\b/;

function storageUnavailable(err: Error): boolean {
  return (
    STORAGE_DOWN.test(err.message) || (err.name === 'ReplyError' && STORAGE_REPLY.test(err.message))
  );
}

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface HttpDeps {
  services: Services;
  heartbeats: Heartbeats;
  /** Handles one Telegram update (webhook mode). */
  onUpdate?: (u: Update) => Promise<void>;
  webhookSecret?: string;
  /** Extra routes (postmortem, etc.) registered by later features. */
  extend?: (app: FastifyInstance) => void;
}

/** The fastify app: intake, read API, webhook, health and metrics, with one central error handler. */
export function buildHttp(deps: HttpDeps): FastifyInstance {
  const { services: s, heartbeats } = deps;
  const config: OpsbotConfig = s.config;
  // fastify gives each request a child of opsbot's logger (`req.log`, bound to its reqId); its own
  // per-request lines are off, so only what opsbot writes appears (never headers or bodies)
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    loggerInstance: s.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: true,
  });

  app.addHook('onResponse', async (req, reply) => {
    s.metrics.http.inc({
      route: req.routeOptions.url ?? 'unknown',
      status: String(reply.statusCode),
    });
    if (reply.statusCode >= 500)
      req.log.warn(
        { method: req.method, route: req.routeOptions.url, status: reply.statusCode },
        'http error',
      );
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (err instanceof HttpProblem) {
      for (const [k, v] of Object.entries(err.headers)) void reply.header(k, v);
      return reply.status(err.status).send({ error: err.message, ...err.extra });
    }
    if (err instanceof ValidationError)
      return reply.status(400).send({ error: err.message, issues: err.issues });
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.statusCode === 413)
      return reply
        .status(413)
        .send({ error: `body larger than ${req.routeOptions.bodyLimit ?? BODY_LIMIT} bytes` });
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || err.statusCode === 415)
      return reply.status(415).send({ error: 'expected application/json' });
    if (err.statusCode === 400 || err.code?.startsWith('FST_ERR_CTP'))
      return reply
        .status(400)
        .send({ error: 'invalid JSON body', issues: [{ path: '(root)', message: err.message }] });
    if (storageUnavailable(err)) {
      req.log.error({ err: err.message, route: req.routeOptions.url }, 'storage unavailable');
      return reply
        .status(503)
        .header('retry-after', '5')
        .send({ error: 'storage unavailable, retry later' });
    }
    req.log.error({ err: err.message, route: req.routeOptions.url }, 'unhandled http error');
    return reply.status(500).send({ error: 'internal error' });
  });

  // JSON is the only body type intake takes; an empty heartbeat body is allowed.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (e) {
      const err = new ValidationError('invalid JSON body', [
        { path: '(root)', message: (e as Error).message },
      ]);
      done(err, undefined);
    }
  });

  const integrations = (kind: IntegrationConfig['kind']) =>
    Object.entries(config.integrations).filter(([, i]) => i.kind === kind);

  function authenticate(req: FastifyRequest, kind: IntegrationConfig['kind']): string {
    const hit = matchToken(bearer(req.headers.authorization), integrations(kind));
    if (!hit) throw new HttpProblem(401, 'missing or invalid bearer token');
    return hit[0];
  }

  async function rateLimit(name: string) {
    const lim = own(config.integrations, name)?.rate_limit ?? { max: 6000, per: 60_000 };
    const now = s.clock.now();
    const window = Math.floor(now / lim.per);
    const key = s.keys.rate(`${name}:${window}`);
    const n = await s.redis.incr(key);
    if (n === 1) await s.redis.pexpire(key, lim.per * 2);
    if (n > lim.max) {
      const retry = Math.max(1, Math.ceil(((window + 1) * lim.per - now) / 1000));
      s.metrics.alerts.inc({ integration: name, outcome: 'rate_limited' });
      throw new HttpProblem(
        429,
        'rate limit exceeded for this integration',
        { retry_after: retry },
        { 'retry-after': String(retry) },
      );
    }
  }

  // Global cap on intake requests in flight (body being read, or alerts being stored): above it,
  // intake sheds load with 503 + Retry-After instead of queueing without bound.
  const maxInFlight = config.http?.max_in_flight ?? 256;
  let inFlight = 0;
  function admit(reply: FastifyReply) {
    if (inFlight >= maxInFlight)
      throw new HttpProblem(
        503,
        'too many intake requests in flight, retry later',
        { retry_after: 1 },
        { 'retry-after': '1' },
      );
    inFlight++;
    // 'close' fires once the response is done or the connection is gone, whichever comes first
    reply.raw.once('close', () => inFlight--);
  }

  app.decorateRequest('opsbotIntegration', '');

  // The hook routes count a request against its integration's limit inside the one script call that
  // stores its batch (one round trip per request). A replica that saw an integration go over its
  // limit remembers it until the window ends and refuses in onRequest, before reading the body.
  const overUntil = new Map<string, number>();
  function rateWindow(name: string) {
    const lim = own(config.integrations, name)?.rate_limit ?? { max: 6000, per: 60_000 };
    const now = s.clock.now();
    const window = Math.floor(now / lim.per);
    return { lim, now, window, end: (window + 1) * lim.per };
  }
  function tooMany(name: string, end: number, now: number): HttpProblem {
    const retry = Math.max(1, Math.ceil((end - now) / 1000));
    s.metrics.alerts.inc({ integration: name, outcome: 'rate_limited' });
    return new HttpProblem(
      429,
      'rate limit exceeded for this integration',
      { retry_after: retry },
      { 'retry-after': String(retry) },
    );
  }

  async function accept(req: FastifyRequest, reply: FastifyReply, parse: () => Alert[]) {
    const name = req.opsbotIntegration;
    const w = rateWindow(name);
    let alerts: Alert[];
    try {
      alerts = parse();
    } catch (e) {
      // a bad body stores nothing, but still counts against the limit
      await rateLimit(name);
      throw e;
    }
    try {
      const res = await s.intake.ingest(alerts, {
        rate: { key: s.keys.rate(`${name}:${w.window}`), max: w.lim.max, ttl: w.lim.per * 2 },
      });
      return await reply
        .status(202)
        .serializer(serializeAccepted)
        .send({ accepted: res.accepted, incidents: res.incidents });
    } catch (e) {
      if (e instanceof RateLimitedError) {
        overUntil.set(name, w.end);
        throw tooMany(name, w.end, s.clock.now());
      }
      throw e;
    }
  }

  // Intake authenticates in onRequest, before fastify reads a byte of the body: a request without a
  // valid token is answered 401 whatever its size or content, and its body is never parsed.
  const hook = (
    path: string,
    kind: IntegrationConfig['kind'],
    parse: (body: unknown, integration: string) => Alert[],
  ) =>
    app.post(
      path,
      {
        onRequest: async (req, reply) => {
          req.opsbotIntegration = authenticate(req, kind);
          const until = overUntil.get(req.opsbotIntegration);
          if (until !== undefined) {
            const now = s.clock.now();
            if (now < until) throw tooMany(req.opsbotIntegration, until, now);
            overUntil.delete(req.opsbotIntegration);
          }
          admit(reply);
        },
      },
      async (req, reply) => accept(req, reply, () => parse(req.body, req.opsbotIntegration)),
    );
  hook('/hooks/alertmanager', 'alertmanager', parseAlertmanager);
  hook('/hooks/grafana', 'grafana', parseGrafana);
  hook('/hooks/generic', 'generic', parseGeneric);

  // The exception: PagerDuty's protocol puts the credential in the body. Before the body: refuse
  // when no events-v2 integration exists, count it in flight; the body limit is 512 KiB; the key is
  // checked right after JSON parsing, before schema validation, rate limiting or any storage.
  const enqueueHooks = {
    bodyLimit: EVENTS_V2_BODY_LIMIT,
    onRequest: async (_req: FastifyRequest, reply: FastifyReply) => {
      if (integrations('events-v2').length === 0)
        throw new HttpProblem(401, 'invalid routing_key', { status: 'invalid event' });
      admit(reply);
    },
  };
  app.post('/v2/enqueue', enqueueHooks, async (req, reply) => {
    const body = req.body as { routing_key?: unknown } | undefined;
    const key = typeof body?.routing_key === 'string' ? body.routing_key : undefined;
    const hit = matchToken(key, integrations('events-v2'));
    if (!hit) {
      // PagerDuty answers 400 for an unknown routing key; we keep 401 as CONTRACT.md says
      throw new HttpProblem(401, 'invalid routing_key', { status: 'invalid event' });
    }
    await rateLimit(hit[0]);
    const { alert, dedupKey } = parseEventsV2(req.body);
    alert.integration = hit[0];
    await s.intake.ingest([alert]);
    s.outbox.notify();
    s.timers.notify();
    return reply
      .status(202)
      .send({ status: 'success', message: 'Event processed', dedup_key: dedupKey });
  });

  app.post<{ Params: { name: string } }>(
    '/hooks/heartbeat/:name',
    {
      onRequest: async (req, reply) => {
        const { name } = req.params as { name: string };
        const integ = Object.hasOwn(config.integrations, name)
          ? config.integrations[name]
          : undefined;
        const token = bearer(req.headers.authorization);
        if (!integ || integ.kind !== 'heartbeat' || !token || !safeEqual(token, integ.token)) {
          throw new HttpProblem(401, 'missing or invalid bearer token');
        }
        req.opsbotIntegration = name;
        admit(reply);
        await rateLimit(name);
      },
    },
    async (req, reply) => {
      const res = await heartbeats.ping(req.opsbotIntegration);
      s.outbox.notify();
      return reply.status(202).send({ accepted: 1, incidents: res.incidents });
    },
  );

  function requireApi(req: FastifyRequest) {
    const token = bearer(req.headers.authorization);
    if (!config.api_token || !token || !safeEqual(token, config.api_token))
      throw new HttpProblem(401, 'missing or invalid bearer token');
  }

  app.get<{ Querystring: Record<string, unknown> }>('/api/v1/incidents', async (req) => {
    requireApi(req);
    const q = parseListQuery(req.query);
    const page = await s.repo.page(q);
    const tails = await s.repo.timelineTails(
      page.incidents.map((i) => i.id),
      LIST_TIMELINE_ENTRIES,
    );
    return {
      incidents: page.incidents.map((inc) => {
        const tl = tails.get(inc.id);
        return {
          ...inc,
          // the last entries only; the whole timeline is at timeline_url
          timeline: tl?.entries ?? [],
          timeline_total: tl?.total ?? 0,
          timeline_url: `/api/v1/incidents/${inc.id}`,
        };
      }),
      next_cursor: page.next ?? null,
    };
  });

  app.get<{ Params: { id: string } }>('/api/v1/incidents/:id', async (req) => {
    requireApi(req);
    const id = normalizeIncidentId(req.params.id);
    const inc = id ? await s.repo.get(id) : undefined;
    if (!inc || !id) throw new HttpProblem(404, 'no such incident');
    return { ...inc, alerts: await s.repo.alerts(id), timeline: await s.repo.timeline(id) };
  });

  app.get<{ Params: { id: string } }>('/api/v1/incidents/:id/postmortem', async (req, reply) => {
    requireApi(req);
    const id = normalizeIncidentId(req.params.id);
    const inc = id ? await s.repo.get(id) : undefined;
    if (!inc || !id) throw new HttpProblem(404, 'no such incident');
    const md = buildPostmortem(inc, await s.repo.timeline(id), {
      ackTargetMs: config.severities[inc.severity]?.ack_within,
      now: s.clock.now(),
    });
    return reply.header('content-type', 'text/markdown; charset=utf-8').send(md);
  });

  app.post('/telegram/webhook', async (req, reply) => {
    const got = req.headers['x-telegram-bot-api-secret-token'];
    if (!deps.webhookSecret || typeof got !== 'string' || !safeEqual(got, deps.webhookSecret)) {
      throw new HttpProblem(401, 'bad secret token');
    }
    const u = req.body as Update | undefined;
    if (!u || typeof u.update_id !== 'number')
      throw new ValidationError('invalid update', [
        { path: 'update_id', message: 'expected a number' },
      ]);
    await deps.onUpdate?.(u);
    return reply.status(200).send({ ok: true });
  });

  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_req, reply) => {
    const h = await s.health();
    return reply.status(h.redis && h.telegram ? 200 : 503).send(h);
  });
  app.get('/metrics', async (_req, reply) => {
    try {
      // counters kept by the scripts, never the open index
      const counts = await s.repo.counts();
      for (const [severity, n] of Object.entries(counts.open))
        s.metrics.incidentsOpen.set({ severity }, n);
      s.metrics.outboxDepth.set(await s.outbox.depth());
    } catch {
      /* Redis down: serve process metrics anyway */
    }
    return reply
      .header('content-type', s.metrics.registry.contentType)
      .send(await s.metrics.registry.metrics());
  });

  void app.register(opsgenieRoutes({ services: s, heartbeats }), { prefix: '/opsgenie' });
  void app.register(calendarRoutes({ services: s }), { prefix: '/api/v1' });

  deps.extend?.(app);
  return app;
}

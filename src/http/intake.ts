import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IntegrationConfig } from '../config.js';
import type { Heartbeats } from '../intake/heartbeat.js';
import { parseAlertmanager, parseEventsV2, parseGeneric, parseGrafana } from '../intake/index.js';
import { RateLimitedError } from '../intake/service.js';
import type { Alert } from '../domain/alert.js';
import { own } from '../own.js';
import type { Services } from '../services.js';
import type { RateLimits } from '../store/rate-limits.js';
import { bearer, integrationsByKind, matchToken, safeEqual } from './auth.js';
import { HttpProblem } from './errors.js';

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

/** The 202 answer of the hook routes, serialised without a schema lookup or a generic stringify. */
function serializeAccepted(payload: { accepted: number; incidents: string[] }): string {
  return `{"accepted":${payload.accepted},"incidents":${JSON.stringify(payload.incidents)}}`;
}

/**
 * Alert intake: the Alertmanager, Grafana and generic hooks, PagerDuty Events v2 (`/v2/enqueue`)
 * and heartbeats. Each request is authenticated before its body is read (Events v2 excepted, its
 * key being in the body), counted against its integration's rate limit, and admitted only while
 * fewer than `http.max_in_flight` intake requests are in flight.
 */
export function intakeRoutes(deps: {
  services: Services;
  heartbeats: Heartbeats;
  rates: RateLimits;
}) {
  const { services: s, heartbeats, rates } = deps;
  const { config } = s;

  const integrations = integrationsByKind(config.integrations);

  function authenticate(req: FastifyRequest, kind: IntegrationConfig['kind']): string {
    const hit = matchToken(bearer(req.headers.authorization), integrations(kind));
    if (!hit) throw new HttpProblem(401, 'missing or invalid bearer token');
    return hit[0];
  }

  const limitOf = (name: string) =>
    own(config.integrations, name)?.rate_limit ?? { max: 6000, per: 60_000 };

  /** The 429 answer; `msLeft` until the integration's window ends. */
  function tooMany(name: string, msLeft: number): HttpProblem {
    const retry = Math.max(1, Math.ceil(msLeft / 1000));
    s.metrics.alerts.inc({ integration: name, outcome: 'rate_limited' });
    return new HttpProblem(
      429,
      'rate limit exceeded for this integration',
      { retry_after: retry },
      { 'retry-after': String(retry) },
    );
  }

  async function rateLimit(name: string) {
    const lim = limitOf(name);
    const hit = await rates.hit(rates.integration(name), lim.max, lim.per);
    if (!hit.allowed) throw tooMany(name, hit.retryAfterMs);
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

  // The hook routes count a request against its integration's limit inside the one script call that
  // stores its batch (one round trip per request). A replica that saw an integration go over its
  // limit remembers it until the window ends and refuses in onRequest, before reading the body.
  const overUntil = new Map<string, number>();

  async function accept(req: FastifyRequest, reply: FastifyReply, parse: () => Alert[]) {
    const name = req.opsbotIntegration;
    const lim = limitOf(name);
    const w = rates.window(rates.integration(name), lim.per);
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
        rate: { key: w.key, max: lim.max, ttl: lim.per * 2 },
      });
      return await reply
        .status(202)
        .serializer(serializeAccepted)
        .send({ accepted: res.accepted, incidents: res.incidents });
    } catch (e) {
      if (e instanceof RateLimitedError) {
        overUntil.set(name, w.end);
        throw tooMany(name, w.end - s.clock.now());
      }
      throw e;
    }
  }

  return async function plugin(app: FastifyInstance) {
    app.decorateRequest('opsbotIntegration', '');

    // Intake authenticates in onRequest, before fastify reads a byte of the body: a request without
    // a valid token is answered 401 whatever its size or content, and its body is never parsed.
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
              if (now < until) throw tooMany(req.opsbotIntegration, until - now);
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
    // when no events-v2 integration exists, count it in flight; the body limit is 512 KiB; the key
    // is checked right after JSON parsing, before schema validation, rate limiting or any storage.
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
        // PagerDuty answers 400 for an unknown routing key; opsbot keeps 401 like every other route
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
  };
}

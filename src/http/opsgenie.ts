import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IntegrationConfig } from '../config.js';
import { ValidationError } from '../errors.js';
import type { Heartbeats } from '../intake/heartbeat.js';
import {
  actionSchema,
  noteSchema,
  opsgenieAliasAlert,
  parseOpsgenieCreate,
  parseOpsgenieUpdate,
} from '../intake/opsgenie.js';
import { parseWith } from '../intake/common.js';
import type { ActionResult } from '../incidents/actions.js';
import { normalizeIncidentId } from '../domain/incident.js';
import type { Services } from '../services.js';
import { createOpsgenieStore } from '../store/opsgenie.js';
import type { RateLimits } from '../store/rate-limits.js';
import { integrationsByKind, matchToken, safeEqual } from './auth.js';

/** An error answered in Opsgenie's shape: `{message, took, requestId}` (plus `errors` for 422). */
class OpsgenieError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: Record<string, string>,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Alias → incident ids are kept as long as Opsgenie keeps closed alerts addressable (about 90 days). */
const ALIAS_TTL_S = 90 * 86_400;
/** Request statuses (`GET /v2/alerts/requests/{id}`) are kept a day. */
const REQUEST_TTL_S = 86_400;

/** The GenieKey of an `Authorization: GenieKey <key>` header, or undefined. */
export function genieKey(header: string | undefined): string | undefined {
  return /^GenieKey\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
}

/**
 * The Opsgenie-compatible Alert API under `/opsgenie/v2/`: a team moving from Opsgenie changes one
 * URL (Alertmanager's `opsgenie_configs.api_url`, Grafana's Opsgenie contact point, scripts).
 * Creates go through the same intake service as every other integration; close, acknowledge and
 * notes act on the incident the identifier names. Answers and errors are shaped like Opsgenie's.
 */
export function opsgenieRoutes(deps: {
  services: Services;
  heartbeats: Heartbeats;
  rates: RateLimits;
}) {
  const { services: s, heartbeats, rates } = deps;
  const { config } = s;
  const records = createOpsgenieStore(s);

  return async function plugin(app: FastifyInstance) {
    const started = new WeakMap<FastifyRequest, { at: number; id: string }>();
    app.addHook('onRequest', async (req, reply) => {
      const id = randomUUID();
      started.set(req, { at: performance.now(), id });
      void reply.header('x-request-id', id);
    });
    /** Opsgenie's `took` (seconds) and `requestId`, present in every answer. */
    const meta = (req: FastifyRequest) => {
      const st = started.get(req) ?? { at: performance.now(), id: randomUUID() };
      return { took: Math.round(performance.now() - st.at) / 1000, requestId: st.id };
    };

    app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
      if (err instanceof OpsgenieError) {
        for (const [k, v] of Object.entries(err.headers)) void reply.header(k, v);
        return reply.status(err.status).send({
          message: err.message,
          ...(err.errors ? { errors: err.errors } : {}),
          ...meta(req),
        });
      }
      if (err instanceof ValidationError) {
        if (err.message === 'invalid JSON body')
          return reply.status(400).send({ message: 'Could not parse request body.', ...meta(req) });
        const errors: Record<string, string> = {};
        for (const i of err.issues) errors[i.path] ??= i.message;
        return reply.status(422).send({
          message: 'Request body is not processable. Please check the errors.',
          errors,
          ...meta(req),
        });
      }
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.statusCode === 413)
        return reply.status(413).send({ message: 'Request entity too large.', ...meta(req) });
      throw err; // storage down (503) and the rest: the server's central handler
    });

    app.setNotFoundHandler((req, reply) =>
      reply.status(404).send({ message: 'Could not find the requested resource.', ...meta(req) }),
    );

    const integrations = integrationsByKind(config.integrations);

    /** The opsgenie integration whose key the request carries (compared in constant time). */
    function authenticate(req: FastifyRequest): [string, IntegrationConfig] {
      const hit = matchToken(genieKey(req.headers.authorization), integrations('opsgenie'));
      if (!hit) throw new OpsgenieError(401, 'Could not authenticate.');
      return hit;
    }

    async function rateLimit(name: string) {
      const lim = config.integrations[name]?.rate_limit ?? { max: 6000, per: 60_000 };
      const hit = await rates.hit(rates.integration(name), lim.max, lim.per);
      if (!hit.allowed) {
        const retry = Math.max(1, Math.ceil(hit.retryAfterMs / 1000));
        s.metrics.alerts.inc({ integration: name, outcome: 'rate_limited' });
        throw new OpsgenieError(429, 'Too many requests.', undefined, {
          'retry-after': String(retry),
        });
      }
    }

    const accepted = (
      req: FastifyRequest,
      reply: FastifyReply,
      result = 'Request will be processed',
    ) => reply.status(202).send({ result, ...meta(req) });

    async function record(req: FastifyRequest, data: Record<string, unknown>) {
      await records.saveRequest(
        meta(req).requestId,
        { ...data, processedAt: new Date(s.clock.now()).toISOString() },
        REQUEST_TTL_S,
      );
    }

    /** The incident an identifier names; undefined when there is none. */
    async function lookup(
      integration: string,
      identifier: string,
      type: string,
    ): Promise<string | undefined> {
      if (type === 'alias') return records.aliasOf(integration, identifier);
      const id =
        type === 'tiny'
          ? /^\d{1,9}$/.test(identifier)
            ? normalizeIncidentId(identifier)
            : undefined
          : normalizeIncidentId(identifier);
      return id && (await s.repo.get(id)) ? id : undefined;
    }

    function identifierType(req: FastifyRequest): string {
      const q = (req.query as { identifierType?: string }).identifierType ?? 'id';
      if (!['id', 'alias', 'tiny'].includes(q))
        throw new OpsgenieError(422, 'Request is not processable.', {
          identifierType: 'should be one of id, alias, tiny',
        });
      return q;
    }

    const notFound = (identifier: string, type: string) =>
      new OpsgenieError(404, `Alert with ${type} [${identifier}] does not exist.`);

    function acted(r: ActionResult): boolean {
      return r.ok || r.reason === 'already' || r.reason === 'resolved';
    }

    app.post('/v2/alerts', async (req, reply) => {
      const [name] = authenticate(req);
      await rateLimit(name);
      const { alert, alias, note, user } = parseOpsgenieCreate(req.body, name);
      const res = await s.intake.ingest([alert]);
      s.outbox.notify();
      s.timers.notify();
      const out = res.outcomes[0];
      if (out?.id) {
        await records.setAlias(name, alias, out.id, ALIAS_TTL_S);
        if (note && out.outcome === 'created')
          await s.actions.note(out.id, user ?? name, note.slice(0, 4000));
      }
      await record(req, {
        action: 'Create',
        integrationId: name,
        isSuccess: !!out?.id,
        status: out?.outcome === 'created' ? 'Created alert' : 'Alert updated',
        alertId: out?.id ?? '',
        alias,
      });
      return accepted(req, reply);
    });

    app.get<{ Params: { requestId: string } }>(
      '/v2/alerts/requests/:requestId',
      async (req, reply) => {
        authenticate(req);
        const data = /^[0-9a-f-]{36}$/i.test(req.params.requestId)
          ? await records.request(req.params.requestId)
          : undefined;
        if (data === undefined)
          throw new OpsgenieError(404, 'Request not found. It might not be processed, yet.');
        return reply.status(200).send({ data, ...meta(req) });
      },
    );

    app.post<{ Params: { identifier: string } }>(
      '/v2/alerts/:identifier/close',
      async (req, reply) => {
        const [name] = authenticate(req);
        await rateLimit(name);
        const type = identifierType(req);
        const body = parseWith(actionSchema, req.body, 'Opsgenie close');
        const actor = body.user ?? name;
        const ident = req.params.identifier;
        let id: string | undefined;
        if (type === 'alias') {
          // the alias is the dedup key: fold a resolved alert into its incident, as a webhook does
          const res = await s.intake.ingest([opsgenieAliasAlert(name, ident, 'close')]);
          id = res.outcomes[0]?.id || undefined;
        } else {
          id = await lookup(name, ident, type);
          if (!id) throw notFound(ident, type);
          await s.actions.resolve(id, actor, body.note);
        }
        if (id && body.note && type === 'alias') await s.actions.note(id, actor, body.note);
        s.outbox.notify();
        s.timers.notify();
        await record(req, {
          action: 'Close',
          integrationId: name,
          isSuccess: !!id,
          status: id ? 'Closed alert' : 'Alert does not exist or is already closed',
          alertId: id ?? '',
          ...(type === 'alias' ? { alias: ident } : {}),
        });
        return accepted(req, reply);
      },
    );

    app.post<{ Params: { identifier: string } }>(
      '/v2/alerts/:identifier/acknowledge',
      async (req, reply) => {
        const [name] = authenticate(req);
        await rateLimit(name);
        const type = identifierType(req);
        const body = parseWith(actionSchema, req.body, 'Opsgenie acknowledge');
        const actor = body.user ?? name;
        const ident = req.params.identifier;
        const id = await lookup(name, ident, type);
        // by alias an unknown alert is a no-op, as Opsgenie processes it asynchronously
        if (!id && type !== 'alias') throw notFound(ident, type);
        const r = id ? await s.actions.acknowledge(id, actor) : undefined;
        if (id && body.note) await s.actions.note(id, actor, body.note);
        s.outbox.notify();
        s.timers.notify();
        await record(req, {
          action: 'Acknowledge',
          integrationId: name,
          isSuccess: !!r && acted(r),
          status: r?.ok ? 'Acknowledged alert' : 'Alert does not exist or is not open',
          alertId: id ?? '',
        });
        return accepted(req, reply);
      },
    );

    app.post<{ Params: { identifier: string } }>(
      '/v2/alerts/:identifier/notes',
      async (req, reply) => {
        const [name] = authenticate(req);
        await rateLimit(name);
        const type = identifierType(req);
        const body = parseWith(noteSchema, req.body, 'Opsgenie note');
        const ident = req.params.identifier;
        const id = await lookup(name, ident, type);
        if (!id) throw notFound(ident, type);
        await s.actions.note(id, body.user ?? name, body.note);
        await record(req, {
          action: 'Add Note',
          integrationId: name,
          isSuccess: true,
          status: 'Added note',
          alertId: id,
        });
        return accepted(req, reply);
      },
    );

    // update message / description (Alertmanager's `update_alerts: true` sends both after each
    // notification): by alias an unknown alert is a no-op, as Opsgenie processes it asynchronously
    for (const field of ['message', 'description'] as const)
      app.put<{ Params: { identifier: string } }>(
        `/v2/alerts/:identifier/${field}`,
        async (req, reply) => {
          const [name] = authenticate(req);
          await rateLimit(name);
          const type = identifierType(req);
          const { change, user } = parseOpsgenieUpdate(field, req.body);
          const ident = req.params.identifier;
          const id = await lookup(name, ident, type);
          if (!id && type !== 'alias') throw notFound(ident, type);
          const r = id ? await s.actions.retitle(id, user ?? name, change) : undefined;
          if (r?.ok) s.outbox.notify();
          await record(req, {
            action: field === 'message' ? 'Update Alert Message' : 'Update Alert Description',
            integrationId: name,
            isSuccess: !!r && acted(r),
            status: !r
              ? 'Alert does not exist'
              : r.ok
                ? `Updated alert ${field}`
                : `Alert ${field} unchanged`,
            alertId: id ?? '',
          });
          return accepted(req, reply);
        },
      );

    const ping = async (req: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply) => {
      const key = genieKey(req.headers.authorization);
      const hb = config.integrations[req.params.name];
      // any opsgenie integration's key, or the heartbeat's own token (both in constant time)
      const own = !!key && hb?.kind === 'heartbeat' && safeEqual(key, hb.token);
      const [name] = own ? [req.params.name] : authenticate(req);
      if (!hb || hb.kind !== 'heartbeat')
        throw new OpsgenieError(404, `Heartbeat with name [${req.params.name}] does not exist.`);
      await rateLimit(name);
      await heartbeats.ping(req.params.name);
      s.outbox.notify();
      return accepted(req, reply, 'PONG - Heartbeat received');
    };
    app.get('/v2/heartbeats/:name/ping', ping);
    app.post('/v2/heartbeats/:name/ping', ping);
  };
}

import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyServerOptions,
} from 'fastify';
import type { Update } from 'grammy/types';
import { ValidationError } from '../errors.js';
import type { Heartbeats } from '../intake/heartbeat.js';
import type { Services } from '../services.js';
import { calendarRoutes } from './calendar.js';
import { httpErrorHandler } from './errors.js';
import { healthRoutes } from './health.js';
import { intakeRoutes } from './intake.js';
import { opsgenieRoutes } from './opsgenie.js';
import { readApiRoutes } from './read-api.js';
import { telegramWebhookRoutes, type WebhookReply } from './telegram-webhook.js';

export const BODY_LIMIT = 1024 * 1024;

/** The logger methods fastify checks on every request's logger (and our code calls). */
const LOG_METHODS = new Set([
  'info',
  'error',
  'debug',
  'fatal',
  'warn',
  'trace',
  'child',
  'silent',
]);

const REAL = Symbol('opsbot.realLogger');
type Real = { [REAL]: () => FastifyBaseLogger };
/** One function per logger method for every request: calls the method on the request's child. */
const DEFERRED = Object.fromEntries(
  [...LOG_METHODS].map((m) => [
    m,
    function (this: Real, ...a: unknown[]) {
      return (this[REAL]() as unknown as Record<string, (...a: unknown[]) => unknown>)[m]!(...a);
    },
  ]),
);

/**
 * `req.log` made when first used: fastify builds a pino child per request (bound to its reqId), and
 * with opsbot's redaction that cost about 3% of a request's CPU and allocations, for a logger almost
 * no request writes to (opsbot logs only 5xx and unhandled errors through it). Fastify checks each
 * request's logger for its methods (`validateLogger`), so reading a method gives a function, shared
 * by all requests, that makes the child only when called (on the logger, as pino's own methods are);
 * anything else makes it at once.
 */
export const lazyChild: NonNullable<FastifyServerOptions['childLoggerFactory']> = (
  parent,
  bindings,
  opts,
) => {
  let child: FastifyBaseLogger | undefined;
  const real = () => (child ??= parent.child(bindings, opts));
  return new Proxy({} as FastifyBaseLogger, {
    get(_, key) {
      if (key === REAL) return real;
      if (!child && typeof key === 'string' && LOG_METHODS.has(key)) return DEFERRED[key];
      const c = real();
      const v: unknown = Reflect.get(c, key, c);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(c) : v;
    },
    set(_, key, value) {
      return Reflect.set(real(), key, value);
    },
  });
};

function noSchemas(): never {
  throw new Error('opsbot routes take no fastify JSON schema: validate in the handler');
}

export interface HttpDeps {
  services: Services;
  heartbeats: Heartbeats;
  /** Handles one Telegram update (webhook mode); `reply` carries a call back in the response. */
  onUpdate?: (u: Update, reply: WebhookReply) => Promise<void>;
  webhookSecret?: string;
}

/**
 * The fastify app: the route plugins (intake, read API, Opsgenie, calendar feeds, webhook, health
 * and metrics) under one JSON body parser, one request counter and one central error handler.
 */
export function buildHttp(deps: HttpDeps): FastifyInstance {
  const { services: s, heartbeats } = deps;
  // fastify gives each request a child of opsbot's logger (`req.log`, bound to its reqId, made on
  // first use); its own per-request lines are off, so only what opsbot writes appears (never
  // headers or bodies)
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    loggerInstance: s.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChild,
    trustProxy: true,
    // No route declares a JSON schema (bodies are checked by the intake parsers and zod), so fastify
    // needs no validator or serializer compiler; without these factories it would load ajv and
    // fast-json-stringify at start for nothing (~0.6 MB of source, ~2 MB of RSS). A route that adds
    // a schema fails at registration with this message.
    schemaController: {
      compilersFactory: { buildValidator: noSchemas, buildSerializer: noSchemas },
    },
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

  app.setErrorHandler(httpErrorHandler);

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

  const rates = s.rateLimits;
  void app.register(intakeRoutes({ services: s, heartbeats, rates }));
  void app.register(readApiRoutes({ services: s }), { prefix: '/api/v1' });
  void app.register(telegramWebhookRoutes(deps));
  void app.register(healthRoutes({ services: s }));
  void app.register(opsgenieRoutes({ services: s, heartbeats, rates }), { prefix: '/opsgenie' });
  void app.register(calendarRoutes({ services: s }), { prefix: '/api/v1' });
  return app;
}

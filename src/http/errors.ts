import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ValidationError } from '../errors.js';
import { StorageUnavailableError } from '../store/errors.js';

/** An answer a route chose: its status, `{error: message, ...extra}` body and headers. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * The one error handler of the HTTP server: maps typed errors to answers. A route's HttpProblem is
 * sent as it is; bad input is 400 (413 too large, 415 not JSON); storage that did not take the
 * request is 503 with Retry-After, so a sender retries instead of trusting an answer for data that
 * was never stored; anything else is a 500 that tells nothing.
 */
export function httpErrorHandler(
  err: Error & Partial<Pick<FastifyError, 'statusCode' | 'code'>>,
  req: FastifyRequest,
  reply: FastifyReply,
) {
  if (err instanceof HttpProblem) {
    for (const [k, v] of Object.entries(err.headers)) void reply.header(k, v);
    return reply.status(err.status).send({ error: err.message, ...err.extra });
  }
  if (err instanceof ValidationError)
    return reply.status(400).send({ error: err.message, issues: err.issues });
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.statusCode === 413)
    return reply.status(413).send({
      error: `body larger than ${req.routeOptions.bodyLimit ?? req.server.initialConfig.bodyLimit} bytes`,
    });
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || err.statusCode === 415)
    return reply.status(415).send({ error: 'expected application/json' });
  if (err.statusCode === 400 || err.code?.startsWith('FST_ERR_CTP'))
    return reply
      .status(400)
      .send({ error: 'invalid JSON body', issues: [{ path: '(root)', message: err.message }] });
  if (err instanceof StorageUnavailableError) {
    req.log.error({ err, route: req.routeOptions.url }, 'storage unavailable');
    return reply
      .status(503)
      .header('retry-after', '5')
      .send({ error: 'storage unavailable, retry later' });
  }
  req.log.error({ err, route: req.routeOptions.url }, 'unhandled http error');
  return reply.status(500).send({ error: 'internal error' });
}

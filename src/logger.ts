import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths whose values never reach the log. */
const REDACT = [
  'token',
  '*.token',
  'botToken',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers["x-telegram-bot-api-secret-token"]',
  'routing_key',
  '*.routing_key',
  'api_token',
];

/** A Bot API token inside a URL (`/bot<id>:<secret>/`), as a network error's message may carry it. */
const BOT_TOKEN = /bot\d+:[A-Za-z0-9_-]{20,}/g;

/** Copies a serialised error with every Bot API token replaced (depth-bounded: no cycles). */
function scrub(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return v.replace(BOT_TOKEN, 'bot[redacted]');
  if (depth > 8 || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => scrub(x, depth + 1));
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, scrub(x, depth + 1)]));
}

/** Errors are logged whole (stack, cause, the causing error), with Bot API tokens removed. */
const serializers = { err: (e: Error) => scrub(pino.stdSerializers.err(e)) };

/** JSON lines on stdout; secrets redacted. */
export function createLogger(level = 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT, censor: '[redacted]' },
      base: { app: 'opsbot' },
      serializers,
    },
    destination,
  );
}

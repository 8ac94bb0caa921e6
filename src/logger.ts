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

/** JSON lines on stdout; secrets redacted. */
export function createLogger(level = 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    { level, redact: { paths: REDACT, censor: '[redacted]' }, base: { app: 'opsbot' } },
    destination,
  );
}

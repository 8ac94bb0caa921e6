import { Writable } from 'node:stream';
import { HttpError } from 'grammy';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';

function capture() {
  const lines: string[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger('info', dest), lines };
}

describe('logger', () => {
  it('logs an error whole (message, stack, cause) without the Bot API token its cause carries', () => {
    const { logger, lines } = capture();
    const token = '123456:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-ts';
    const cause = new Error(`request to https://api.telegram.org/bot${token}/getUpdates failed`);
    logger.warn({ err: new HttpError("Network request for 'getUpdates' failed!", cause) }, 'x');
    const out = lines.join('');
    expect(out).not.toContain(token);
    const rec = JSON.parse(out) as { err: { message: string; stack: string; error: unknown } };
    expect(rec.err.message).toContain('getUpdates');
    expect(rec.err.stack).toContain('HttpError');
    expect(JSON.stringify(rec.err.error)).toContain('bot[redacted]/getUpdates');
  });
});

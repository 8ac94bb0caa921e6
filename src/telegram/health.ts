import type { Api } from 'grammy';

/**
 * Whether the Bot API answers `getMe` within `timeoutMs`; the answer is reused for `cacheMs`, so
 * /status and /readyz polled often cost one call at most every two seconds.
 */
export function createTelegramProbe(api: Api, opts: { timeoutMs?: number; cacheMs?: number } = {}) {
  const timeoutMs = opts.timeoutMs ?? 2000;
  const cacheMs = opts.cacheMs ?? 2000;
  let last = { ok: false, at: 0 };
  return async function telegramHealthy(): Promise<boolean> {
    if (Date.now() - last.at > cacheMs) {
      try {
        await Promise.race([
          api.getMe(),
          new Promise((_, rej) => setTimeout(() => rej(new Error('timeout')), timeoutMs).unref()),
        ]);
        last = { ok: true, at: Date.now() };
      } catch {
        last = { ok: false, at: Date.now() };
      }
    }
    return last.ok;
  };
}

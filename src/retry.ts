/**
 * Calls `fn` until it succeeds, waiting a little longer after each failure (500 ms more each time,
 * at most `maxDelayMs`). `onFirstFailure` hears about the first failure only, so a long outage logs once.
 */
export async function retryUntilDone(
  fn: () => Promise<void>,
  opts: { onFirstFailure?: (err: unknown) => void; maxDelayMs?: number } = {},
): Promise<void> {
  const maxDelayMs = opts.maxDelayMs ?? 5000;
  for (let attempt = 0; ; attempt++) {
    try {
      await fn();
      return;
    } catch (e) {
      if (attempt === 0) opts.onFirstFailure?.(e);
      await new Promise((r) => setTimeout(r, Math.min(500 * (attempt + 1), maxDelayMs)));
    }
  }
}

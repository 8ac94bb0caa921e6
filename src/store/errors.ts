/**
 * Redis could not take or answer a command: the connection is gone, or the server refuses for a
 * reason a retry later can cure (failover to a READONLY replica, OOM, LOADING, an ACL change...).
 * The original error is its `cause` (logged as "storage unavailable: <the cause's message>").
 */
export class StorageUnavailableError extends Error {
  constructor(cause: Error) {
    super('storage unavailable', { cause });
    this.name = 'StorageUnavailableError';
  }
}

/** Connection loss, as ioredis and Node report it. */
const STORAGE_DOWN =
  /Connection is closed|ECONNREFUSED|Redis|max retries|Stream isn't writeable|EPIPE|ETIMEDOUT|ECONNRESET/i;
/**
 * Server replies meaning "not now" rather than "wrong command". NOSCRIPT is not one: ioredis answers
 * it itself by sending the script's source, which it recognises by that reply's message.
 */
const STORAGE_REPLY =
  /^(READONLY|OOM|LOADING|MASTERDOWN|NOPERM|NOREPLICAS|BUSY|CLUSTERDOWN|TRYAGAIN|MISCONF)\b/;

/**
 * The one place Redis errors are sorted: an error meaning "Redis did not take the command" becomes
 * a StorageUnavailableError (its cause the original); anything else is returned unchanged.
 */
export function storageError(e: unknown): unknown {
  if (!(e instanceof Error) || e instanceof StorageUnavailableError) return e;
  const down =
    STORAGE_DOWN.test(e.message) || (e.name === 'ReplyError' && STORAGE_REPLY.test(e.message));
  return down ? new StorageUnavailableError(e) : e;
}

import type { Alert } from '../domain/alert.js';
import { StorageUnavailableError } from './errors.js';
import type { RoutedAlert } from './incident-ingest.js';
import type { UpsertResult } from './scripts.js';

export type IngestEntry = { alert: Alert; routed: RoutedAlert };
export interface IngestOpts {
  now: number;
  version?: string;
  rate?: { key: string; max: number; ttl: number };
}
/**
 * One script call for one or more requests: `requests`, how many (absent: one); `sizes`, their entry
 * counts, for the script's rate limit (given only when there is one).
 */
export type IngestSend = (
  entries: IngestEntry[],
  opts: IngestOpts & { requests?: number; sizes?: number[] },
) => Promise<UpsertResult>;

type Waiter = {
  entries: IngestEntry[];
  opts: IngestOpts;
  resolve: (r: UpsertResult) => void;
  reject: (e: unknown) => void;
};

/**
 * Group commit for intake. A request whose alerts are ready goes to Redis at once when fewer than
 * `inFlight` calls of its group are on their way; otherwise it waits for one of them to return and
 * goes with every request that queued meanwhile, in one script call. A quiet intake pays nothing
 * (each request is its own call, as before); a busy one pays the script's fixed cost, the round trip
 * and the shared writes once per group instead of once per request.
 *
 * A group is the requests that may share a call: the same suppression version and the same rate
 * limit counter. Each still gets exactly its own answer:
 * - the script counts every request of the call on the counter, as if it came alone, and admits
 *   the first ones up to the limit (`sizes`), so a request refused alone is refused here too;
 * - `stale` goes to every request (each reloads and retries, as before);
 * - a script error fails the call, then each of its requests is tried alone, so one request's
 *   problem never becomes another's (a script error is a bug: alerts are validated before the call;
 *   as for a request alone, Redis keeps what the failed call wrote before the error; the shared
 *   writes, the incident sequence and dedup pointers included, go together at the batch's end or
 *   before an update that needs them); Redis being unavailable fails them all at once.
 * Calls of a group go out on one connection in order, so requests keep their order in Redis.
 */
export function createIngestQueue(
  send: IngestSend,
  limits: { inFlight?: number; maxEntries?: number } = {},
) {
  const inFlight = limits.inFlight ?? 2;
  const maxEntries = limits.maxEntries ?? 500;
  const groups = new Map<string, { busy: number; queue: Waiter[] }>();

  const groupOf = (o: IngestOpts) =>
    `${o.version ?? ''}\n${o.rate ? `${o.rate.key}\n${o.rate.max}\n${o.rate.ttl}` : ''}`;

  async function alone(w: Waiter) {
    try {
      w.resolve(await send(w.entries, w.opts));
    } catch (e) {
      w.reject(e);
    }
  }

  async function together(batch: Waiter[]) {
    const first = batch[0]!.opts;
    const sizes = batch.map((w) => w.entries.length);
    let res: UpsertResult;
    try {
      res = await send(
        batch.flatMap((w) => w.entries),
        {
          ...first,
          now: Math.max(...batch.map((w) => w.opts.now)),
          requests: batch.length,
          ...(first.rate ? { sizes } : {}),
        },
      );
    } catch (e) {
      if (e instanceof StorageUnavailableError) for (const w of batch) w.reject(e);
      else for (const w of batch) await alone(w);
      return;
    }
    if (res.kind !== 'ok') {
      for (const w of batch) w.resolve(res);
      return;
    }
    const admitted = res.admitted ?? batch.length;
    let at = 0;
    batch.forEach((w, i) => {
      if (i >= admitted) return w.resolve({ kind: 'rate_limited' });
      w.resolve({ kind: 'ok', results: res.results.slice(at, at + sizes[i]!) });
      at += sizes[i]!;
    });
  }

  function pump(key: string, g: { busy: number; queue: Waiter[] }) {
    while (g.busy < inFlight && g.queue.length > 0) {
      const batch = [g.queue.shift()!];
      let n = batch[0]!.entries.length;
      while (g.queue.length > 0 && n + g.queue[0]!.entries.length <= maxEntries) {
        const w = g.queue.shift()!;
        batch.push(w);
        n += w.entries.length;
      }
      g.busy++;
      void (batch.length === 1 ? alone(batch[0]!) : together(batch)).finally(() => {
        g.busy--;
        if (g.busy === 0 && g.queue.length === 0) groups.delete(key);
        else pump(key, g);
      });
    }
  }

  return {
    /** Stores one request's entries (in a call of its own or with others); its own answer. */
    submit(entries: IngestEntry[], opts: IngestOpts): Promise<UpsertResult> {
      return new Promise((resolve, reject) => {
        const key = groupOf(opts);
        let g = groups.get(key);
        if (!g) groups.set(key, (g = { busy: 0, queue: [] }));
        g.queue.push({ entries, opts, resolve, reject });
        pump(key, g);
      });
    },
  };
}

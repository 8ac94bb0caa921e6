import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../src/domain/alert.js';
import { StorageUnavailableError } from '../../../src/store/errors.js';
import {
  createIngestQueue,
  type IngestEntry,
  type IngestOpts,
} from '../../../src/store/ingest-queue.js';
import type { UpsertResult } from '../../../src/store/scripts.js';

/** A request of `n` alerts named `<name>.<i>`. */
const req = (name: string, n = 1): IngestEntry[] =>
  Array.from({ length: n }, (_, i) => ({
    alert: { title: `${name}.${i}` } as Alert,
    routed: { severity: 'P2', chats: ['-1'], notify: true },
  }));
const rate = { key: 'rate:prom:1', max: 100, ttl: 120_000 };

/** A fake script: each call waits until released; answers one result per entry (id = its title). */
function fakeSend(answer?: (entries: IngestEntry[], sizes?: number[]) => UpsertResult | Error) {
  const calls: {
    titles: string[];
    opts: IngestOpts & { sizes?: number[] };
    release: () => void;
  }[] = [];
  const send = (entries: IngestEntry[], opts: IngestOpts & { sizes?: number[] }) =>
    new Promise<UpsertResult>((resolve, reject) => {
      const release = () => {
        const a = answer?.(entries, opts.sizes) ?? {
          kind: 'ok' as const,
          results: entries.map((e) => ({ id: e.alert.title, outcome: 'created' as const })),
          ...(opts.rate ? { admitted: opts.sizes?.length ?? 1 } : {}),
        };
        if (a instanceof Error) reject(a);
        else resolve(a);
      };
      calls.push({ titles: entries.map((e) => e.alert.title), opts, release });
    });
  return { send, calls };
}
const tick = () => new Promise((r) => setImmediate(r));
const ids = (r: UpsertResult) => (r.kind === 'ok' ? r.results.map((x) => x.id) : r.kind);

describe('store/ingest-queue (group commit)', () => {
  it('a quiet intake: each request is its own call, with no sizes', async () => {
    const { send, calls } = fakeSend();
    const q = createIngestQueue(send);
    const a = q.submit(req('a', 2), { now: 1, rate });
    await tick();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.opts.sizes).toBeUndefined();
    calls[0]!.release();
    expect(ids(await a)).toEqual(['a.0', 'a.1']);
  });

  it('requests that arrive while calls are in flight share the next call, each gets its own results', async () => {
    const { send, calls } = fakeSend();
    const q = createIngestQueue(send, { inFlight: 1 });
    const a = q.submit(req('a'), { now: 1, rate });
    const b = q.submit(req('b', 2), { now: 2, rate });
    const c = q.submit(req('c', 0), { now: 5, rate });
    const d = q.submit(req('d', 3), { now: 3, rate });
    await tick();
    expect(calls.map((c) => c.titles)).toEqual([['a.0']]);
    calls[0]!.release();
    expect(ids(await a)).toEqual(['a.0']);
    await tick();
    // b, c and d in one call, in order; the latest `now`; the request sizes for the rate limit
    expect(calls).toHaveLength(2);
    expect(calls[1]!.titles).toEqual(['b.0', 'b.1', 'd.0', 'd.1', 'd.2']);
    expect(calls[1]!.opts).toMatchObject({ now: 5, sizes: [2, 0, 3], rate });
    calls[1]!.release();
    expect([ids(await b), ids(await c), ids(await d)]).toEqual([
      ['b.0', 'b.1'],
      [],
      ['d.0', 'd.1', 'd.2'],
    ]);
  });

  it('up to inFlight calls go out at once; only the same version and rate counter share a call', async () => {
    const { send, calls } = fakeSend();
    const q = createIngestQueue(send, { inFlight: 2 });
    const other = { ...rate, key: 'rate:grafana:1' };
    const all = [
      q.submit(req('a'), { now: 1, rate }),
      q.submit(req('b'), { now: 1, rate }),
      q.submit(req('c'), { now: 1, rate }),
      q.submit(req('x'), { now: 1, rate: other }),
      q.submit(req('d'), { now: 1, rate, version: '7' }),
      q.submit(req('e'), { now: 1, rate }),
    ];
    await tick();
    // a and b at once (two in flight); x and d have groups of their own
    expect(calls.map((c) => c.titles)).toEqual([['a.0'], ['b.0'], ['x.0'], ['d.0']]);
    calls[0]!.release();
    await tick();
    expect(calls[4]!.titles).toEqual(['c.0', 'e.0']);
    for (const c of calls.slice(1)) c.release();
    expect((await Promise.all(all)).map(ids)).toEqual([
      ['a.0'],
      ['b.0'],
      ['c.0'],
      ['x.0'],
      ['d.0'],
      ['e.0'],
    ]);
  });

  it('a call holds at most maxEntries alerts (a bigger request still goes, alone)', async () => {
    const { send, calls } = fakeSend();
    const q = createIngestQueue(send, { inFlight: 1, maxEntries: 4 });
    const all = [
      q.submit(req('a'), { now: 1 }),
      q.submit(req('b', 3), { now: 1 }),
      q.submit(req('c', 2), { now: 1 }),
      q.submit(req('d', 9), { now: 1 }),
    ];
    await tick();
    for (let i = 0; i < 4 && calls[i]; i++) {
      calls[i]!.release();
      await tick();
      await tick();
    }
    expect(calls.map((c) => c.titles.length)).toEqual([1, 3, 2, 9]);
    // no rate limit: no sizes either (the script admits every item)
    expect(calls.every((c) => c.opts.sizes === undefined)).toBe(true);
    await Promise.all(all);
  });

  it('over the limit in a shared call: the first requests are admitted, the others refused', async () => {
    const { send, calls } = fakeSend((entries, sizes) =>
      sizes
        ? {
            kind: 'ok',
            // the script admitted 2 of the requests: results for their items only
            results: entries
              .slice(0, sizes[0]! + sizes[1]!)
              .map((e) => ({ id: e.alert.title, outcome: 'created' as const })),
            admitted: 2,
          }
        : { kind: 'ok', results: [{ id: 'a.0', outcome: 'created' }], admitted: 1 },
    );
    const q = createIngestQueue(send, { inFlight: 1 });
    const first = q.submit(req('a'), { now: 1, rate });
    const rest = [
      q.submit(req('b', 2), { now: 1, rate }),
      q.submit(req('c'), { now: 1, rate }),
      q.submit(req('d'), { now: 1, rate }),
    ];
    await tick();
    calls[0]!.release();
    await first;
    await tick();
    calls[1]!.release();
    expect((await Promise.all(rest)).map(ids)).toEqual([['b.0', 'b.1'], ['c.0'], 'rate_limited']);
  });

  it('stale goes to every request of the call', async () => {
    const { send, calls } = fakeSend(() => ({ kind: 'stale' }));
    const q = createIngestQueue(send, { inFlight: 1 });
    const all = [1, 2, 3].map((i) => q.submit(req(`r${i}`), { now: 1, version: '3' }));
    await tick();
    calls[0]!.release();
    await tick();
    calls[1]!.release();
    expect((await Promise.all(all)).map(ids)).toEqual(['stale', 'stale', 'stale']);
  });

  it("a script error in a shared call: each request is tried alone, so one request's problem stays its own", async () => {
    const { send, calls } = fakeSend((entries) =>
      entries.some((e) => e.alert.title === 'bad.0')
        ? new Error('ERR user_script: bad item')
        : {
            kind: 'ok',
            results: entries.map((e) => ({ id: e.alert.title, outcome: 'created' as const })),
          },
    );
    const q = createIngestQueue(send, { inFlight: 1 });
    const first = q.submit(req('a'), { now: 1 });
    const b = q.submit(req('b'), { now: 1 });
    const bad = q.submit(req('bad'), { now: 1 }).catch((e: unknown) => e);
    const c = q.submit(req('c'), { now: 1 });
    await tick();
    calls[0]!.release();
    await first;
    // the shared call fails, then b, bad and c go one by one
    for (let i = 1; i <= 4; i++) {
      await tick();
      calls[i]?.release();
    }
    expect(ids(await b)).toEqual(['b.0']);
    expect(String(await bad)).toContain('bad item');
    expect(ids(await c)).toEqual(['c.0']);
    expect(calls.map((c) => c.titles)).toEqual([
      ['a.0'],
      ['b.0', 'bad.0', 'c.0'],
      ['b.0'],
      ['bad.0'],
      ['c.0'],
    ]);
  });

  it('Redis unavailable fails every request of the call at once, without retries', async () => {
    const { send, calls } = fakeSend(() => new StorageUnavailableError(new Error('redis down')));
    const q = createIngestQueue(send, { inFlight: 1 });
    const first = q.submit(req('a'), { now: 1 });
    const rest = [q.submit(req('b'), { now: 1 }), q.submit(req('c'), { now: 1 })];
    await tick();
    calls[0]!.release();
    await expect(first).rejects.toBeInstanceOf(StorageUnavailableError);
    await tick();
    calls[1]!.release();
    for (const r of rest) await expect(r).rejects.toBeInstanceOf(StorageUnavailableError);
    expect(calls).toHaveLength(2);
  });
});

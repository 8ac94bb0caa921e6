import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { createIncidentRepository } from '../../src/store/incidents.js';
import { createKeys } from '../../src/store/keys.js';
import { createScripts } from '../../src/store/scripts.js';
import { REDIS_URL, dropPrefix, freshPrefix } from '../helpers/redis.js';

const redis = new Redis(REDIS_URL);
const prefixes: string[] = [];
afterAll(async () => {
  for (const p of prefixes) await dropPrefix(p);
  redis.disconnect();
});

function setup() {
  const prefix = freshPrefix('pacing');
  prefixes.push(prefix);
  const keys = createKeys(prefix);
  const clock = new FakeClock();
  const scripts = createScripts(redis, keys);
  const repo = createIncidentRepository({ redis, keys, scripts, clock });
  /** The claim's answer as the script returns it: ['job', json, slot] | ['wait' | 'idle', ms]. */
  const claim = async (): Promise<string[]> => {
    const r = await scripts.outboxClaim({
      now: clock.now(),
      leaseMs: 30_000,
      intervalMs: 1000,
      perMinute: 20,
      perSecond: 30,
      digestAt: 5,
      digestMax: 200,
    });
    return r.kind === 'job' ? ['job', r.job, r.slot] : [r.kind, String(r.ms)];
  };
  const finish = (
    job: { id: string; chat: string },
    outcome: 'done' | 'noop' | 'retry',
    delayMs = 0,
    slot?: string,
  ) =>
    scripts.outboxFinish({
      now: clock.now(),
      jobId: job.id,
      chat: job.chat,
      outcome,
      delayMs,
      slot,
    });
  const done = async (job: { id: string; chat: string }) => finish(job, 'done');
  /** Drives the outbox in fake time: claims whatever is allowed, "sends" it, advances the clock. */
  async function simulate(ms: number, step = 50) {
    const sent: { at: number; kind: string; incs?: string[]; inc?: string; chat: string }[] = [];
    const end = clock.now() + ms;
    while (clock.now() < end) {
      for (;;) {
        const r = await claim();
        if (r[0] !== 'job') break;
        const job = JSON.parse(r[1]!) as {
          id: string;
          chat: string;
          kind: string;
          data: { incs?: string[]; inc?: string };
        };
        sent.push({
          at: clock.now(),
          kind: job.kind,
          incs: job.data.incs,
          inc: job.data.inc,
          chat: job.chat,
        });
        await done(job);
      }
      clock.advance(step);
    }
    return sent;
  }
  /** Every job queued for `chat`, lane by lane (stale ids, whose job moved or is gone, left out). */
  async function queued(chat = '-100') {
    const out: { lane: number; kind: string; data: Record<string, unknown> }[] = [];
    for (const lane of [0, 1, 2, 3]) {
      for (const id of await redis.lrange(keys.obLane(chat, lane), 0, -1)) {
        const raw = await redis.get(keys.obJob(id));
        const j = raw ? (JSON.parse(raw) as { lane?: number; kind: string; data: never }) : null;
        if (j && (j.lane ?? 3) === lane) out.push({ lane, kind: j.kind, data: j.data });
      }
    }
    return out;
  }
  return { keys, clock, repo, simulate, claim, finish, scripts, prefix, queued };
}

const alert = (i: number, chat = '-100', severity: 'P0' | 'P2' = 'P2') => ({
  a: {
    source: 'generic' as const,
    integration: 'ci',
    dedupKey: `k${i}`,
    fingerprint: `k${i}`,
    status: 'firing' as const,
    title: `alert ${i}`,
    labels: {},
    annotations: {},
    links: [],
  },
  r: { severity, chats: [chat], notify: true },
});

describe('outbox pacing (fake clock, real Redis)', () => {
  it('sends at most one message per second per chat and 20 per minute per group', async () => {
    const { repo, simulate } = setup();
    for (let i = 0; i < 4; i++) {
      const { a, r } = alert(i);
      await repo.ingest(a, r);
    }
    const sent = await simulate(10_000);
    expect(sent).toHaveLength(4);
    for (let i = 1; i < sent.length; i++)
      expect(sent[i]!.at - sent[i - 1]!.at).toBeGreaterThanOrEqual(1000);
  });

  it('a storm of 2,000 alerts for one group becomes digests within the limits, nothing lost', async () => {
    const { repo, simulate, keys } = setup();
    for (let i = 0; i < 2000; i++) {
      const { a, r } = alert(i);
      await repo.ingest(a, r);
    }
    expect(await redis.zcard(keys.stateIndex('triggered'))).toBe(2000);
    const sent = await simulate(5 * 60_000, 250);
    // every incident is covered exactly once, by its own message or a digest
    const covered = sent.flatMap((s) => (s.kind === 'digest' ? s.incs! : ['single']));
    expect(
      covered.filter((c) => c !== 'single').length + covered.filter((c) => c === 'single').length,
    ).toBe(2000);
    expect(new Set(sent.flatMap((s) => s.incs ?? [])).size).toBe(
      sent.flatMap((s) => s.incs ?? []).length,
    );
    expect(sent.some((s) => s.kind === 'digest')).toBe(true);
    // limits: any 60 s window holds at most 20 sends, any 1 s at most 1
    for (const s of sent) {
      expect(sent.filter((x) => x.at >= s.at && x.at < s.at + 60_000).length).toBeLessThanOrEqual(
        20,
      );
      expect(sent.filter((x) => x.at >= s.at && x.at < s.at + 1000).length).toBe(1);
    }
    for (const lane of [0, 1, 2, 3]) expect(await redis.llen(keys.obLane('-100', lane))).toBe(0);
  });

  it('the global limit caps all chats together at 30 per second', async () => {
    const { repo, simulate } = setup();
    for (let i = 0; i < 60; i++) {
      const { a, r } = alert(i, String(5000 + i));
      await repo.ingest(a, r);
    }
    const sent = await simulate(3000, 10);
    expect(sent).toHaveLength(60);
    for (const s of sent)
      expect(sent.filter((x) => x.at >= s.at && x.at < s.at + 1000).length).toBeLessThanOrEqual(30);
  });

  it('a retry (429) puts the job back in front and pauses the chat', async () => {
    const { repo, claim, finish, clock } = setup();
    const { a, r } = alert(1);
    await repo.ingest(a, r);
    const first = await claim();
    const job = JSON.parse(first[1]!) as { id: string; chat: string };
    await finish(job, 'retry', 3000);
    clock.advance(2000);
    expect((await claim())[0]).not.toBe('job');
    clock.advance(1001);
    const again = await claim();
    expect(again[0]).toBe('job');
    expect(JSON.parse(again[1]!).id).toBe(job.id);
  });

  it('a claimed job whose worker died is re-delivered after its lease', async () => {
    const { repo, claim, clock } = setup();
    const { a, r } = alert(1);
    await repo.ingest(a, r);
    const first = await claim();
    expect(first[0]).toBe('job');
    clock.advance(31_000);
    const again = await claim();
    expect(again[0]).toBe('job');
    expect(JSON.parse(again[1]!).id).toBe(JSON.parse(first[1]!).id);
  });
  it('serves lanes in order: pages and new P0/P1 cards first, new P2/P3 cards, then the rest', async () => {
    const { repo, simulate } = setup();
    const p2 = [];
    for (let i = 0; i < 3; i++) {
      const { a, r } = alert(i);
      p2.push((await repo.ingest(a, r)).id);
    }
    await repo.apply({ outbox: [{ chat: '-100', kind: 'text', data: { text: 'fyi' } }] });
    await repo.apply({ sync: [{ inc: p2[0]!, extra: ['-100'] }] });
    const { a, r } = alert(99, '-100', 'P0');
    const p0 = (await repo.ingest(a, r)).id;
    await repo.apply({
      outbox: [
        { chat: '-100', kind: 'page', data: { inc: p2[1]!, level: 1 }, coalesce: `sync:${p2[1]}` },
      ],
    });
    const sent = await simulate(10_000);
    // the page took over p2[1]'s pending card (coalesced, moved to the first lane)
    expect(sent.map((s) => [s.kind, s.inc])).toEqual([
      ['page', p2[1]],
      ['sync', p0],
      ['sync', p2[0]],
      ['sync', p2[2]],
      ['text', undefined],
    ]);
  });

  it("a storm's incidents are remembered per digest: resolving all of them queues one re-render per digest", async () => {
    const { repo, simulate, queued, keys } = setup();
    const ids: string[] = [];
    for (let i = 0; i < 500; i++) {
      const { a, r } = alert(i);
      ids.push((await repo.ingest(a, r)).id);
    }
    const sent = await simulate(5_000);
    expect(sent.map((s) => [s.kind, s.incs?.length])).toEqual([
      ['digest', 200],
      ['digest', 200],
      ['digest', 100],
    ]);
    for (let i = 0; i < 500; i++) {
      const { a, r } = alert(i);
      expect((await repo.ingest({ ...a, status: 'resolved' }, r)).outcome).toBe('resolved');
    }
    const q = await queued();
    expect(q.map((j) => [j.lane, j.kind])).toEqual([
      [3, 'digest_sync'],
      [3, 'digest_sync'],
      [3, 'digest_sync'],
    ]);
    const dg = await redis.hgetall(keys.obDigest(String(q[0]!.data.digest)));
    expect(JSON.parse(dg.incs!)).toEqual(ids.slice(0, 200));
  });

  it('a job that sent nothing gives its slot back: the chat may send again at once', async () => {
    const { repo, claim, finish, keys } = setup();
    for (let i = 0; i < 2; i++) {
      const { a, r } = alert(i);
      await repo.ingest(a, r);
    }
    const first = await claim();
    const job = JSON.parse(first[1]!) as { id: string; chat: string };
    expect(await redis.zcard(keys.obWindow('-100'))).toBe(1);
    await finish(job, 'noop', 0, first[2]!);
    expect(await redis.zcard(keys.obWindow('-100'))).toBe(0);
    expect(await redis.zcard(keys.obGlobal())).toBe(0);
    const second = await claim();
    expect(second[0]).toBe('job');
    expect(JSON.parse(second[1]!).id).not.toBe(job.id);
  });
});

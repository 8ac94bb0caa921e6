import type { Redis } from 'ioredis';
import { FakeClock } from '../../src/clock.js';
import { createIncidentRepository } from '../../src/store/incidents.js';
import type { Alert } from '../../src/domain/alert.js';
import type { Severity } from '../../src/domain/severity.js';
import { createKeys } from '../../src/store/keys.js';
import { createScripts } from '../../src/store/scripts.js';

const DAY = 86_400_000;

/**
 * Seeds `count` incidents under `prefix` through the real intake script (so counters, indexes and
 * aggregates are what the scripts keep), created evenly over the `days` before `endAt` (default
 * now): every tenth stays open (every thirtieth of all acknowledged), the rest are resolved, a third
 * of those acknowledged first. Sent 1,000 incidents at a time without waiting (ioredis pipelines
 * them on its one connection).
 */
export async function seedIncidents(
  redis: Redis,
  prefix: string,
  count: number,
  opts: { days?: number; endAt?: number; keyPrefix?: string } = {},
): Promise<void> {
  const days = opts.days ?? 87;
  const keys = createKeys(prefix);
  const clock = new FakeClock((opts.endAt ?? Date.now()) - days * DAY);
  const repo = createIncidentRepository({
    redis,
    keys,
    scripts: createScripts(redis, keys),
    clock,
  });
  const step = Math.floor((days * DAY) / count);
  const description = 'x'.repeat(400);
  const kp = opts.keyPrefix ?? 'h';
  const alert = (i: number, over: Partial<Alert> = {}): Alert => ({
    source: 'generic',
    integration: 'ci',
    dedupKey: `${kp}-${i}`,
    fingerprint: 'fp',
    status: 'firing',
    title: `history alert ${i % 300}`,
    description,
    labels: { service: `svc-${i % 50}`, team: 'core' },
    annotations: {},
    links: [],
    ...over,
  });
  const sev: Severity[] = ['P0', 'P1', 'P2', 'P3'];
  const routed = (i: number) => ({ severity: sev[i % 4]!, chats: [] as string[], notify: true });
  for (let start = 0; start < count; start += 1000) {
    const batch: Promise<unknown>[] = [];
    for (let i = start; i < Math.min(count, start + 1000); i++) {
      clock.advance(step);
      batch.push(repo.ingest(alert(i), routed(i)));
      if (i % 30 === 0) batch.push(repo.ingest(alert(i, { acknowledge: true }), routed(i)));
      else if (i % 10 !== 0) {
        if (i % 3 === 0) batch.push(repo.ingest(alert(i, { acknowledge: true }), routed(i)));
        batch.push(repo.ingest(alert(i, { status: 'resolved' }), routed(i)));
      }
    }
    await Promise.all(batch);
  }
}

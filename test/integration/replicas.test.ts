import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { post, type TestApp } from '../helpers/app.js';
import { build } from '../helpers/build.js';
import { LEADS, PEOPLE, TOKENS, testConfigYaml } from '../helpers/config.js';
import { freshPrefix } from '../helpers/redis.js';
import type { TelegramKit } from '../helpers/telegram.js';

// three replicas on one Redis; limits opened up so 600 pages go out in seconds
const config = parseConfig(
  testConfigYaml({
    levels: `      - { after: 0s, notify: ["chat:ops"] }
      - { after: 1s, notify: ["person:root"] }
      - { after: 2s, notify: ["chat:leads"] }`,
    extra:
      'outbox: { per_chat_interval: 1ms, group_per_minute: 100000, global_per_second: 100000, digest_threshold: 100000 }',
  }),
  {},
);

let kit: TelegramKit;
let apps: TestApp[];
const prefix = freshPrefix('replicas');
beforeAll(async () => {
  ({ kit, apps } = await build({ replicas: 3, config, prefix, polling: false }));
});

describe('three replicas, one Redis', () => {
  it('200 incidents escalating through three levels: every level notified exactly once', async () => {
    const N = 200;
    const ids: string[] = [];
    for (let i = 0; i < N; i++) {
      const target = apps[i % 3]!;
      const r = await post(
        `${target.url}/hooks/generic`,
        { title: `replica ${i}`, status: 'firing', severity: 'critical', dedup_key: `rep-${i}` },
        TOKENS.ci,
      );
      ids.push((r.body.incidents as string[])[0]!);
    }
    expect(new Set(ids).size).toBe(N);
    const repo = apps[0]!.app.services.repo;
    await kit.waitFor(
      async () => {
        const tls = await Promise.all(ids.map((id) => repo.timeline(id)));
        return tls.every((tl) => tl.filter((e) => e.type === 'escalated').length >= 3);
      },
      { timeoutMs: 30_000, label: 'all levels fired' },
    );
    const sendsTo = (chat: number) =>
      kit.callsOf('sendMessage').filter((c) => Number(c.body.chat_id) === chat);
    await kit.waitFor(() => sendsTo(PEOPLE.root).length >= N, {
      timeoutMs: 30_000,
      label: 'root pages',
    });
    await kit.waitFor(() => sendsTo(LEADS).length >= N, {
      timeoutMs: 30_000,
      label: 'leads posts',
    });
    for (const id of ids) {
      const tl = await repo.timeline(id);
      expect(tl.filter((e) => e.type === 'escalated').map((e) => e.data?.level)).toEqual([0, 1, 2]);
    }
    const perInc = (calls: ReturnType<typeof sendsTo>) => {
      const m = new Map<string, number>();
      for (const c of calls) {
        const id = /INC-\d+/.exec(String(c.body.text))?.[0] ?? '?';
        m.set(id, (m.get(id) ?? 0) + 1);
      }
      return m;
    };
    const dms = perInc(sendsTo(PEOPLE.root));
    const lds = perInc(sendsTo(LEADS));
    for (const id of ids) {
      expect(dms.get(id)).toBe(1);
      expect(lds.get(id)).toBe(1);
    }
  });
});

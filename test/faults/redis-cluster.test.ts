import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, startTestApp, type TestApp } from '../helpers/app.js';
import { startCluster, type LocalCluster } from '../helpers/cluster.js';
import { GROUP, LEADS, PEOPLE, TOKENS, testConfig } from '../helpers/config.js';
import { startTelegram, type TelegramKit } from '../helpers/telegram.js';

// opsbot on a three-master Redis Cluster: every key shares the prefix's hash tag, so each atomic
// script runs on one slot and the Cluster client routes it there
let kit: TelegramKit;
let cluster: LocalCluster;
let t: TestApp;

beforeAll(async () => {
  kit = await startTelegram({ storeTimeout: 3600 });
  cluster = await startCluster();
  t = await startTestApp({
    apiRoot: kit.apiRoot,
    token: kit.token,
    prefix: 'opsbot-cluster:',
    config: testConfig({
      levels: `      - { after: 0s, notify: ["chat:ops"] }
      - { after: 1s, notify: ["chat:leads"] }`,
    }),
    env: { redisClusterNodes: cluster.nodes },
  });
}, 60_000);
afterAll(async () => {
  await t?.stop();
  await cluster?.stop();
  await kit?.stop();
});

describe('Redis Cluster', () => {
  it('alert in, message with buttons, acknowledge by button, escalation timer: all on a cluster', async () => {
    expect(t.app.services.keys.prefix).toBe('{opsbot-cluster}:');
    const r = await post(
      `${t.url}/hooks/generic`,
      { title: 'on a cluster', status: 'firing', severity: 'critical', dedup_key: 'cl-1' },
      TOKENS.ci,
    );
    expect(r.status).toBe(202);
    const id = (r.body.incidents as string[])[0]!;
    const msg = await kit.waitForMessage(
      (m) => m.chatId === GROUP && m.text.includes('on a cluster<') && m.buttons.length > 0,
    );
    // the level-2 timer fires on the cluster and posts to the leads topic
    await kit.waitForMessage((m) => m.chatId === LEADS && m.text.includes('on a cluster<'), {
      timeoutMs: 15_000,
      label: 'level 2',
    });
    await kit
      .user({ id: PEOPLE.alice, chatId: GROUP, chatType: 'supergroup' })
      .press(msg.messageId, `i:ack:${id.slice(4)}`);
    await kit.waitFor(async () => (await t.app.services.repo.get(id))?.state === 'acknowledged', {
      label: 'acknowledged',
    });
    const tl = (await t.app.services.repo.timeline(id)).map((e) => e.type);
    expect(tl).toContain('acknowledged');
    expect(tl.filter((x) => x === 'escalated')).toHaveLength(2);
    // a duplicate alert is deduplicated through the same slot
    const again = await post(
      `${t.url}/hooks/generic`,
      { title: 'on a cluster', status: 'firing', severity: 'critical', dedup_key: 'cl-1' },
      TOKENS.ci,
    );
    expect((again.body.incidents as string[])[0]).toBe(id);
    // every key of the deployment lives on one node, in one slot
    const counts = cluster.nodes.map((n) =>
      Number(
        execFileSync('redis-cli', ['-p', String(n.port), 'dbsize'])
          .toString()
          .trim(),
      ),
    );
    expect(counts.filter((c) => c > 0)).toHaveLength(1);
  });
});

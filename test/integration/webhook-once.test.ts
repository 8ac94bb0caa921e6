import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { parseConfig } from '../../src/config.js';
import { post, type TestApp } from '../helpers/app.js';
import { build } from '../helpers/build.js';
import { TOKENS, testConfigYaml } from '../helpers/config.js';
import { freshPrefix } from '../helpers/redis.js';
import type { TelegramKit } from '../helpers/telegram.js';

/** A receiver that keeps the first request of each incident open until `release()`; later ones get 200 at once. */
async function slowReceiver() {
  const seen: string[] = [];
  const held: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const id = String((JSON.parse(body) as { id: string }).id);
      const first = !seen.includes(id);
      seen.push(id);
      if (first) held.push(res);
      else res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    held,
    release: () => held.splice(0).forEach((r) => r.end('ok')),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

let kit: TelegramKit;
let rx: Awaited<ReturnType<typeof slowReceiver>>;
const clock = new FakeClock(Date.parse('2026-03-02T10:00:00Z'));
let apps: TestApp[];
const prefix = freshPrefix('whonce');

beforeAll(async () => {
  rx = await slowReceiver();
  const config = parseConfig(
    testConfigYaml({
      levels: `      - { after: 0s, notify: ["webhook:phone"] }`,
      extra: `notifiers: { phone: { kind: webhook, url: "${rx.url}/page", timeout: 10s } }`,
    }),
    {},
  );
  // three replicas on one Redis, sharing the fake clock
  ({ kit, apps } = await build({ replicas: 3, config, prefix, clock }));
});
afterAll(async () => {
  rx?.release();
  await rx?.close();
});

describe('a webhook delivery is made once across replicas', () => {
  it('a request still under way when its claim runs out is not sent again by another replica', async () => {
    const N = 6;
    const ids: string[] = [];
    for (let i = 0; i < N; i++) {
      const r = await post(
        `${apps[i % 3]!.url}/hooks/generic`,
        { title: `slow ${i}`, status: 'firing', severity: 'critical', dedup_key: `slow-${i}` },
        TOKENS.ci,
      );
      ids.push((r.body.incidents as string[])[0]!);
    }
    // every delivery has reached the receiver, which keeps them all open
    await kit.waitFor(() => rx.held.length >= N, { label: 'all requests under way' });
    // the clock moves past the timer lease and past request timeout + margin while they are open:
    // every replica's loop sees the claims as run out
    for (let round = 0; round < 3; round++) {
      clock.advance(30_000);
      for (const a of apps) await a.app.services.timers.runDue();
    }
    rx.release();
    for (const a of apps) await a.app.services.escalation.drainWebhooks();
    // whatever is still claimed comes back once more, on every replica
    clock.advance(30_000);
    for (const a of apps) await a.app.services.timers.runDue();
    for (const a of apps) await a.app.services.escalation.drainWebhooks();

    for (const id of ids) expect(rx.seen.filter((s) => s === id)).toHaveLength(1);
    expect(rx.seen).toHaveLength(N);
    const repo = apps[0]!.app.services.repo;
    for (const id of ids) {
      const hooks = (await repo.timeline(id)).filter((e) => e.type === 'webhook');
      expect(hooks.map((e) => e.text)).toEqual(['webhook phone → 200']);
    }
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import { post, type TestApp } from '../helpers/app.js';
import { build } from '../helpers/build.js';
import { GROUP, TOKENS, testConfig } from '../helpers/config.js';
import type { TelegramKit } from '../helpers/telegram.js';

let kit: TelegramKit;
let t: TestApp;
beforeAll(async () => {
  const config = testConfig({
    extra:
      'outbox: { per_chat_interval: 10ms, group_per_minute: 100000, global_per_second: 1000, digest_threshold: 100000 }',
  });
  ({ kit, t } = await build({ config, polling: false }));
});

describe('the Bot API fails for a while', () => {
  it('429s with retry_after and 5xx: everything is delivered afterwards, once, and retry_after is honoured', async () => {
    kit.failNext('sendMessage', 3, {
      status: 429,
      body: {
        ok: false,
        error_code: 429,
        description: 'Too Many Requests: retry after 1',
        parameters: { retry_after: 1 },
      },
    });
    kit.failNext('sendMessage', 3, {
      status: 502,
      body: { ok: false, error_code: 502, description: 'Bad Gateway' },
    });
    const titles = Array.from({ length: 10 }, (_, i) => `flaky ${i}`);
    for (const title of titles)
      await post(
        `${t.url}/hooks/generic`,
        { title, status: 'firing', dedup_key: title },
        TOKENS.ci,
      );
    const sent = (x: string) =>
      kit
        .callsOf('sendMessage')
        .filter((c) => c.status === 200 && String(c.body.text).includes(`${x}<`));
    // the proxy records a forwarded call when the emulator's answer has come back, a moment after
    // the message shows in the group: wait for both
    await kit.waitFor(
      () =>
        titles.every(
          (x) => kit.botMessages(GROUP).some((m) => m.text.includes(`${x}<`)) && sent(x).length > 0,
        ),
      { timeoutMs: 30_000, label: 'all delivered' },
    );
    for (const x of titles) expect(sent(x)).toHaveLength(1);
    // after the first 429 nothing was sent to that chat for retry_after (1 s)
    const calls = kit.callsOf('sendMessage');
    const first429 = calls.findIndex((c) => c.status === 429);
    const next = calls.slice(first429 + 1).find((c) => c.status !== 429);
    expect(next!.at - calls[first429]!.at).toBeGreaterThanOrEqual(950);
    const m = await (await fetch(`${t.url}/metrics`)).text();
    expect(m).toMatch(/opsbot_telegram_429_total [1-9]/);
  });
});

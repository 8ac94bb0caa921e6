/**
 * Issue 13: one silence froze everything. A responder's `/silence 1d service=~(a+)+b` and one alert
 * whose `service` is 40 × "a" used to freeze the whole process (JavaScript's backtracking RegExp:
 * 2^40 paths), so /healthz, chats, timers and intake all waited forever. With RE2 the match is linear.
 *
 * The bot runs as a child process (the real entry point), so a frozen event loop cannot freeze the
 * test itself. What is asserted is observable and not a tight timing: the intake request that carries
 * the hostile label is answered at all (202) within a generous bound (15 s; the fixed code takes
 * milliseconds, the old code never answers), every /healthz request sent while it was in flight is
 * answered, /healthz answers afterwards, and the silence still works for a value it does match.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, PEOPLE, TOKENS, testConfigYaml } from '../helpers/config.js';
import { botEnv, freePort, spawnBot, waitHealthy, type BotProcess } from '../helpers/process.js';
import { dropPrefix, freshPrefix } from '../helpers/redis.js';
import { startTelegram, type TelegramKit } from '../helpers/telegram.js';

let kit: TelegramKit;
let bot: BotProcess | undefined;
const prefix = freshPrefix('hostile-regex');

beforeAll(async () => {
  kit = await startTelegram();
});
afterAll(async () => {
  if (bot && bot.child.exitCode === null) {
    bot.kill('SIGKILL'); // a frozen process cannot run its SIGTERM handler
    await bot.exited;
  }
  await kit?.stop();
  await dropPrefix(prefix);
});

const waitUp = (port: number) => waitHealthy(port, 30_000);

async function intake(port: number, title: string, service: string, timeoutMs: number) {
  const res = await fetch(`http://127.0.0.1:${port}/hooks/generic`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.ci}` },
    body: JSON.stringify({ title, status: 'firing', dedup_key: title, labels: { service } }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: res.status, body: (await res.json()) as { incidents: string[] } };
}

describe('hostile regex in a silence', () => {
  it('the process keeps answering /healthz while an alert is matched against (a+)+b', async () => {
    const port = await freePort();
    bot = spawnBot(botEnv({ kit, prefix, port, yaml: testConfigYaml() }));
    await waitUp(port);

    // A responder sets the silence through the chat; it takes effect once she confirms the preview.
    const alice = kit.user({ id: PEOPLE.alice, chatId: GROUP, chatType: 'supergroup' });
    await alice.command('/silence 1d service=~(a+)+b');
    const reply = await kit.waitForMessage(
      (m) => m.chatId === GROUP && m.text.includes('service=~(a+)+b'),
      { timeoutMs: 30_000, label: 'reply to /silence' },
    );
    const confirm = reply.buttons.flat().find((b) => b.data?.startsWith('sc:y:'));
    if (confirm) {
      await alice.press(reply.messageId, confirm.data!);
      await kit.waitForMessage(
        (m) => m.messageId === reply.messageId && m.text.includes('Incidents are still recorded'),
        { timeoutMs: 30_000, label: 'silence confirmed' },
      );
    }

    // Health probes every 50 ms while the hostile alert is in flight.
    const probes: { ok: boolean; error?: string }[] = [];
    const pending: Promise<unknown>[] = [];
    let inFlight = true;
    const prober = (async () => {
      while (inFlight) {
        const p = fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(15_000) })
          .then((r) => probes.push({ ok: r.ok }))
          .catch((e: Error) => probes.push({ ok: false, error: e.name }));
        pending.push(p);
        await Promise.race([p, new Promise((r) => setTimeout(r, 50))]);
      }
    })();
    let hostile: Awaited<ReturnType<typeof intake>> | undefined;
    let failure: string | undefined;
    try {
      hostile = await intake(port, 'hostile label', 'a'.repeat(40), 15_000);
    } catch (e) {
      failure = `intake did not answer within 15 s (${(e as Error).name}): the process froze`;
    } finally {
      inFlight = false;
    }
    if (failure) throw new Error(failure);
    await prober;
    await Promise.all(pending);
    expect(hostile!.status).toBe(202);
    // every health probe sent while the alert was being matched was answered 200
    expect(probes.filter((p) => !p.ok)).toEqual([]);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`, {
      signal: AbortSignal.timeout(5_000),
    });
    expect(health.status).toBe(200);

    // The hostile value does not match (no "b"), so the alert is posted as usual ...
    await kit.waitForMessage((m) => m.chatId === GROUP && m.text.includes('hostile label'), {
      timeoutMs: 30_000,
      label: 'the hostile alert posted',
    });
    // ... and the silence does apply to a value it matches.
    const matched = await intake(port, 'matching label', 'aaab', 15_000);
    const inc = (await (
      await fetch(`http://127.0.0.1:${port}/api/v1/incidents/${matched.body.incidents[0]}`, {
        headers: { authorization: `Bearer ${TOKENS.api}` },
      })
    ).json()) as { silenced: boolean };
    expect(inc.silenced).toBe(true);
  });
});

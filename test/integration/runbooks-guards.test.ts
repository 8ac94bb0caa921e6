import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { parseConfig } from '../../src/config.js';
import type { TestApp } from '../helpers/app.js';
import { appendRunbook, runRequest } from '../helpers/runbooks.js';
import { build } from '../helpers/build.js';
import { GROUP, LEADS, PEOPLE, STRANGER, testConfigYaml } from '../helpers/config.js';
import { REDIS_URL, freshPrefix } from '../helpers/redis.js';
import type { TelegramKit } from '../helpers/telegram.js';

// Issue 13 item 6: checks when a run starts, secrets in output, leases, and shutdown.
const dir = mkdtempSync(path.join(os.tmpdir(), 'opsbot-rbg-'));
const counter = path.join(dir, 'count.txt');
const pidFile = path.join(dir, 'stubborn.pid');
const node = JSON.stringify(process.execPath);
writeFileSync(path.join(dir, 'append.yaml'), appendRunbook(counter));
writeFileSync(
  path.join(dir, 'echo.yaml'),
  `id: echo
title: Echo
description: No approval; prints its argument.
approval: { required: false }
role: responder
params:
  - { name: arg, pattern: "^[^\\\\n]{1,200}$", default: "hello" }
steps:
  - name: show
    run: [${node}, -e, "console.log('arg=' + process.argv[1])", "{{arg}}"]
`,
);
writeFileSync(
  path.join(dir, 'stubborn.yaml'),
  `id: stubborn
title: Stubborn
description: Ignores SIGTERM and runs for a long time.
approval: { required: false }
role: responder
lock: stubborn-lock
steps:
  - name: hold
    run: [${node}, -e, "process.on('SIGTERM', () => {}); require('fs').writeFileSync(process.argv[1], String(process.pid)); setInterval(() => {}, 1000)", ${JSON.stringify(pidFile)}]
    timeout: 10m
`,
);

const SECRET = 'interp-secret-9c1d2e3f4a5b';
let kit: TelegramKit;
let t: TestApp;
const yaml = () =>
  testConfigYaml({ extra: 'stakeholder_chat: leads' })
    .replace(/runbooks_dir: .*/, `runbooks_dir: ${dir}`)
    .replace(/api_token: .*/, 'api_token: "${OPS_GUARD_VALUE}"');
beforeAll(async () => {
  const config = parseConfig(yaml(), { OPS_GUARD_VALUE: SECRET });
  ({ kit, t } = await build({ config }));
});

const u = (id: number, chatId = GROUP) =>
  kit.user({ id, name: `u${id}`, chatId, chatType: 'supergroup' });
const count = () => {
  try {
    return readFileSync(counter, 'utf8').split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
};
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const request = (text: string, by: number = PEOPLE.bob) =>
  runRequest(kit, () => u(by).command(text), text);
const edited = (id: number, re: RegExp) =>
  kit.waitFor(() => kit.botMessages(GROUP).find((m) => m.messageId === id && re.test(m.text)), {
    label: `message ${id} ${re}`,
    timeoutMs: 15_000,
  });

describe('checks when a run starts', () => {
  it('a stored request tampered with after approval was asked does not run', async () => {
    const before = count();
    const req = await request('/run append word=alpha');
    const approve = req.buttons[0]![0]!.data!;
    const s = t.app.services;
    // someone with Redis access swaps the parameters under the approver's eyes
    await s.redis.hset(s.keys.approval(approve.slice(5)), 'params', '{"word":"beta"}');
    await u(PEOPLE.alice).press(req.messageId, approve);
    await edited(req.messageId, /no longer matches what was approved/);
    expect(count()).toBe(before);
    expect((await s.audit.recent(10)).map((a) => a.action)).toContain('run.tampered');
  });

  it('a stored request whose params no longer validate does not run', async () => {
    const before = count();
    const req = await request('/run append word=gamma');
    const approve = req.buttons[0]![0]!.data!;
    const s = t.app.services;
    await s.redis.hset(s.keys.approval(approve.slice(5)), 'params', '{"word":"a;rm -rf"}');
    await u(PEOPLE.alice).press(req.messageId, approve);
    await edited(req.messageId, /no longer matches what was approved/);
    expect(count()).toBe(before);
  });

  it("the requester's role is checked again when the approval completes", async () => {
    const before = count();
    const req = await request('/run append word=delta');
    const bob = t.config.people.bob!;
    const roles = bob.roles;
    bob.roles = ['viewer']; // removed from config since the request (e.g. a redeploy)
    try {
      await u(PEOPLE.alice).press(req.messageId, req.buttons[0]![0]!.data!);
      await edited(req.messageId, /bob no longer has the <b>responder<\/b> role/);
    } finally {
      bob.roles = roles;
    }
    expect(count()).toBe(before);
  });
});

describe('output', () => {
  let details = '';
  it('config-interpolated values and the bot token are redacted from step output', async () => {
    const req = await request(`/run echo "arg=${SECRET} and ${kit.token}"`);
    const done = await edited(req.messageId, /Finished|Failed/);
    // the step's output in the message (the params line echoes what the requester typed)
    const shown = done.text.slice(done.text.indexOf('<pre>'));
    expect(shown).toContain('arg=[redacted] and [redacted]');
    expect(shown).not.toContain(SECRET);
    expect(shown).not.toContain(kit.token);
    details = done.buttons.flat().find((b) => b.data?.startsWith('rd:'))!.data!;
    const run = details.slice(3);
    const out = await t.app.services.runbooks.runOutput(run);
    expect(out!.output).not.toContain(SECRET);
    expect(out!.output).not.toContain(kit.token);
  });

  it('the Details button checks chat and role like every other button', async () => {
    const req = await request('/run echo arg=plain');
    const done = await edited(req.messageId, /Finished|Failed/);
    const msgId = done.messageId;
    details = done.buttons.flat().find((b) => b.data?.startsWith('rd:'))!.data!;
    const outputs = () => kit.botMessages().filter((m) => m.text.includes('Output of echo')).length;
    let n = kit.answers().length;
    await u(STRANGER).press(msgId, details);
    await kit.waitFor(() => kit.answers()[n], { label: 'stranger answer' });
    expect(String(kit.answers()[n]!.text)).toMatch(/needs the responder role/);
    n = kit.answers().length;
    await u(PEOPLE.bob, LEADS).press(msgId, details);
    await kit.waitFor(() => kit.answers()[n], { label: 'other chat answer' });
    expect(String(kit.answers()[n]!.text)).toMatch(/another chat/);
    expect(outputs()).toBe(0);
    await u(PEOPLE.bob).press(msgId, details);
    await kit.waitFor(() => outputs() === 1, { label: 'output for bob in the group' });
  });
});

describe('locks and shutdown', () => {
  it('the lock is a lease while the run lives; the step process group is recorded with its host', async () => {
    const req = await request('/run stubborn');
    const s = t.app.services;
    const pid = await kit.waitFor(
      () => {
        try {
          return Number(readFileSync(pidFile, 'utf8')) || undefined;
        } catch {
          return undefined;
        }
      },
      { label: 'stubborn pid' },
    );
    const ttl = await s.redis.pttl(s.keys.lock('stubborn-lock'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30_000);
    const runId = (await s.redis.smembers(s.keys.runsActive()))[0]!;
    const rec = await kit.waitFor(
      async () => {
        const h = await s.redis.hgetall(s.keys.run(runId));
        return h.pgid ? h : undefined;
      },
      { label: 'pgid recorded' },
    );
    expect(rec).toMatchObject({ pgid: String(pid), host: os.hostname() });
    expect(req.messageId).toBeGreaterThan(0);
  });

  it('app.stop() kills a running step that ignores SIGTERM before it returns', async () => {
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(alive(pid)).toBe(true);
    await t.stop();
    expect(alive(pid)).toBe(false);
    const s = t.app.services;
    const redis = new (await import('ioredis')).Redis(REDIS_URL);
    try {
      expect(await redis.get(s.keys.lock('stubborn-lock'))).toBeNull();
    } finally {
      redis.disconnect();
    }
  });
});

describe('load time', () => {
  it('refuses a runbook whose env lists a variable the config interpolates, naming the file', () => {
    const bad = mkdtempSync(path.join(os.tmpdir(), 'opsbot-rbenv-'));
    writeFileSync(
      path.join(bad, 'leak.yaml'),
      `id: leak
title: Leak
description: Passes opsbot's own secret through.
env: [OPS_GUARD_VALUE]
steps:
  - name: show
    run: [env]
`,
    );
    const config = parseConfig(yaml().replace(dir, bad), { OPS_GUARD_VALUE: SECRET });
    expect(() =>
      buildApp({
        config,
        env: {
          botToken: kit.token,
          apiRoot: kit.apiRoot,
          redisUrl: REDIS_URL,
          redisPrefix: freshPrefix('rbenv'),
        },
        defaultMetrics: false,
      }),
    ).toThrow(/leak\.yaml: env\[0\]: OPS_GUARD_VALUE is interpolated into the opsbot config/);
  });
});

import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import type { TestApp } from '../helpers/app.js';
import { appendRunbook, runRequest } from '../helpers/runbooks.js';
import { build } from '../helpers/build.js';
import { GROUP, PEOPLE, STRANGER, testConfigYaml } from '../helpers/config.js';
import type { TelegramKit } from '../helpers/telegram.js';

// a runbooks dir of harmless test runbooks (node -e steps) beside the shipped library
const dir = mkdtempSync(path.join(os.tmpdir(), 'opsbot-rb-'));
const counter = path.join(dir, 'count.txt');
const node = process.execPath;
writeFileSync(path.join(dir, 'append.yaml'), appendRunbook(counter, '    timeout: 10s\n'));
writeFileSync(
  path.join(dir, 'two.yaml'),
  `id: two-person
title: Two-person rule
description: Needs two approvers.
approval: { required: true, approvers: 2 }
role: responder
steps:
  - name: echo
    run: [${JSON.stringify(node)}, -e, "console.log('two ok')"]
`,
);
writeFileSync(
  path.join(dir, 'diag.yaml'),
  `id: diag
title: Diagnostic
description: No approval; prints argv and a secret that must be redacted.
approval: { required: false }
role: responder
redact: ["password=\\\\S+"]
params:
  - { name: arg, pattern: "^[^\\\\n]{1,100}$", default: "hello" }
steps:
  - name: show
    run: [${JSON.stringify(node)}, -e, "console.log(JSON.stringify(process.argv.slice(1)), 'password=hunter2', 'TOKEN=' + (process.env.TELEGRAM_BOT_TOKEN || 'none'))", "{{arg}}"]
`,
);
writeFileSync(
  path.join(dir, 'slow.yaml'),
  `id: slow
title: Slow
description: Sleeps past its timeout.
approval: { required: false }
role: responder
lock: slow-lock
steps:
  - name: sleep
    run: [${JSON.stringify(node)}, -e, "setTimeout(() => {}, 60000)"]
    timeout: 1s
`,
);

let kit: TelegramKit;
let t: TestApp;
beforeAll(async () => {
  const config = parseConfig(
    testConfigYaml().replace(/runbooks_dir: .*/, `runbooks_dir: ${dir}`),
    {},
  );
  ({ kit, t } = await build({ config }));
});

const u = (id: number) => kit.user({ id, name: `u${id}`, chatId: GROUP, chatType: 'supergroup' });
const count = () =>
  existsSync(counter) ? readFileSync(counter, 'utf8').split('\n').filter(Boolean).length : 0;
const answersFrom = (n: number) => kit.waitFor(() => kit.answers()[n], { label: 'answer' });

const request = (text: string, by: number = PEOPLE.bob) =>
  runRequest(kit, () => u(by).command(text), text);
const finished = (id: number) =>
  kit.waitFor(
    () =>
      kit
        .botMessages(GROUP)
        .find((m) => m.messageId === id && /Finished|Failed|Timed out/.test(m.text)),
    { label: 'run finished', timeoutMs: 15_000 },
  );

describe('runbooks with approval', () => {
  it('happy path: request, approve, run, result in the message, audit and count', async () => {
    const req = await request('/run append word=alpha');
    expect(
      req.buttons
        .flat()
        .map((b) => b.text)
        .join(' '),
    ).toMatch(/Approve.*Reject/);
    const approve = req.buttons[0]![0]!.data!;
    expect(approve).toMatch(/^ap:y:[0-9a-f]{32}$/);
    const n = kit.answers().length;
    await u(PEOPLE.alice).press(req.messageId, approve);
    expect(String((await answersFrom(n)).text)).toMatch(/Approved/);
    const done = await finished(req.messageId);
    expect(done.text).toMatch(/✅ append/);
    expect(count()).toBe(1);
    const audit = await t.app.services.audit.recent(20);
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining(['run.request', 'approval.approve', 'run.start', 'run.finish']),
    );
  });

  it('self-approval and viewer presses are refused and audited; nothing runs', async () => {
    const before = count();
    const req = await request('/run append', PEOPLE.alice);
    const approve = req.buttons[0]![0]!.data!;
    let n = kit.answers().length;
    await u(PEOPLE.alice).press(req.messageId, approve);
    expect(String((await answersFrom(n)).text)).toMatch(/own request/);
    n = kit.answers().length;
    await u(STRANGER).press(req.messageId, approve);
    expect(String((await answersFrom(n)).text)).toMatch(/approver/);
    expect(count()).toBe(before);
    const audit = (await t.app.services.audit.recent(10)).map((a) => a.action);
    expect(audit).toEqual(expect.arrayContaining(['approval.self_refused', 'approval.refused']));
  });

  it('viewers cannot request runs', async () => {
    await u(PEOPLE.viewer).command('/run append');
    await kit.waitForMessage(
      (m) => m.chatId === GROUP && /needs the <b>responder<\/b>/.test(m.text),
    );
  });

  it('two-person rule: one approval is not enough, a second distinct approver runs it', async () => {
    const req = await request('/run two-person');
    const approve = req.buttons[0]![0]!.data!;
    let n = kit.answers().length;
    await u(PEOPLE.alice).press(req.messageId, approve);
    expect(String((await answersFrom(n)).text)).toMatch(/1\/2/);
    n = kit.answers().length;
    await u(PEOPLE.alice).press(req.messageId, approve);
    expect(String((await answersFrom(n)).text)).toMatch(/already voted/);
    n = kit.answers().length;
    await u(PEOPLE.carol).press(req.messageId, approve);
    expect(String((await answersFrom(n)).text)).toMatch(/Approved/);
    const done = await finished(req.messageId);
    expect(done.text).toMatch(/two ok/);
  });

  it('reject cancels; a later approve does nothing', async () => {
    const before = count();
    const req = await request('/run append');
    const [approve, reject] = [req.buttons[0]![0]!.data!, req.buttons[0]![1]!.data!];
    await u(PEOPLE.alice).press(req.messageId, reject);
    await kit.waitFor(() =>
      kit
        .botMessages(GROUP)
        .find((m) => m.messageId === req.messageId && /Rejected by alice/.test(m.text)),
    );
    const n = kit.answers().length;
    await u(PEOPLE.carol).press(req.messageId, approve);
    expect(String((await answersFrom(n)).text)).toMatch(/already been decided/);
    expect(count()).toBe(before);
  });

  it('concurrent approve presses execute once; replayed tokens do nothing', async () => {
    const before = count();
    const req = await request('/run append word=race');
    const approve = req.buttons[0]![0]!.data!;
    await Promise.all([
      u(PEOPLE.alice).press(req.messageId, approve),
      u(PEOPLE.carol).press(req.messageId, approve),
      u(PEOPLE.root).press(req.messageId, approve),
    ]);
    await finished(req.messageId);
    expect(count()).toBe(before + 1);
    await u(PEOPLE.root).press(req.messageId, approve);
    await u(PEOPLE.alice).press(req.messageId, 'ap:y:' + 'f'.repeat(32));
    await kit.waitFor(() => kit.answers().length >= 2);
    expect(count()).toBe(before + 1);
  });

  it('expiry edits the message and the token stops working', async () => {
    const req = await request('/run append');
    const token = req.buttons[0]![0]!.data!.slice(5);
    // expire now: move the approval deadline and its timer into the past
    const s = t.app.services;
    await s.redis.hset(s.keys.approval(token), 'expires_at', Date.now() - 1);
    await s.redis.zadd(s.keys.timers(), Date.now() - 1, `appr:${token}`);
    s.timers.notify();
    await kit.waitFor(() =>
      kit.botMessages(GROUP).find((m) => m.messageId === req.messageId && /expired/.test(m.text)),
    );
    const n = kit.answers().length;
    await u(PEOPLE.alice).press(req.messageId, `ap:y:${token}`);
    expect(String((await answersFrom(n)).text)).toMatch(/expired|decided/);
  });

  it('injection attempts are rejected or inert; output is redacted; the bot token never reaches a step', async () => {
    for (const bad of ['word=a;rm', 'word=$(id)', 'word=`id`', 'word=../x', 'word=-rf', 'nope=1']) {
      await u(PEOPLE.bob).command(`/run append ${bad}`);
      await kit.waitForMessage(
        (m) =>
          m.chatId === GROUP &&
          m.text.includes('Cannot run') &&
          m.messageId > 0 &&
          m.text.includes('append'),
      );
    }
    const diag = await request('/run diag "arg=a; echo INJECTED $(id) `id`"');
    const done = await finished(diag.messageId);
    expect(done.text).toContain('a; echo INJECTED $(id) `id`'); // one literal argv element
    expect(done.text).not.toContain('hunter2');
    expect(done.text).toContain('[redacted]');
    expect(done.text).toContain('TOKEN=none');
  });

  it('a timeout kills the step and is reported; the lock is released afterwards', async () => {
    const req = await request('/run slow');
    const done = await finished(req.messageId);
    expect(done.text).toMatch(/⏱/);
    expect(await t.app.services.redis.get(t.app.services.keys.lock('slow-lock'))).toBeNull();
  });

  it('lock contention: a second run while the lock is held is told who holds it', async () => {
    await t.app.services.redis.set(
      t.app.services.keys.lock('slow-lock'),
      JSON.stringify({ run: 'x', by: 'carol' }),
      'PX',
      60_000,
    );
    const req = await request('/run slow');
    await kit.waitFor(() =>
      kit
        .botMessages(GROUP)
        .find(
          (m) => m.messageId === req.messageId && /held by a run requested by carol/.test(m.text),
        ),
    );
    await t.app.services.redis.del(t.app.services.keys.lock('slow-lock'));
  });

  it('a run left by a dead process is marked interrupted, never re-run', async () => {
    const s = t.app.services;
    await s.redis.hset(s.keys.run('deadbeef'.repeat(4)), {
      id: 'deadbeef'.repeat(4),
      runbook: 'append',
      state: 'running',
      chat: String(GROUP),
      message_id: 1,
    });
    await s.redis.sadd(s.keys.runsActive(), 'deadbeef'.repeat(4));
    const before = count();
    const ids = await s.runbooks.recoverInterrupted();
    expect(ids).toContain('deadbeef'.repeat(4));
    expect(await s.redis.hget(s.keys.run('deadbeef'.repeat(4)), 'state')).toBe('interrupted');
    expect(count()).toBe(before);
  });

  it('/runbooks and /runbook render', async () => {
    await u(PEOPLE.bob).command('/runbooks');
    const list = await kit.waitForMessage((m) => m.text.includes('Runbooks you may run'));
    expect(list.buttons.flat().map((b) => b.data)).toContain('rs:append');
    await u(PEOPLE.bob).command('/runbook two-person');
    await kit.waitForMessage(
      (m) => m.text.includes('two-person') && m.text.includes('Needs 2 approval'),
    );
  });
});

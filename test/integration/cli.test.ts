/**
 * The `opsbot` CLI as a user runs it: the built `dist/src/cli.js` in a child process. The build
 * happens once, here, so a fresh clone's `npm test` needs nothing done by hand.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { createSuppressions } from '../../src/incidents/silences.js';
import { createKeys } from '../../src/store/keys.js';
import { createSuppressionRecords } from '../../src/store/suppressions.js';
import { startTestApp } from '../helpers/app.js';
import { LEADS, TOKENS, testConfigYaml } from '../helpers/config.js';
import { writeConfig } from '../helpers/process.js';
import { REDIS_URL, dropPrefix, freshPrefix } from '../helpers/redis.js';
import { startTelegram } from '../helpers/telegram.js';
import { createRedis } from '../../src/store/redis.js';

const CLI = path.resolve('dist/src/cli.js');

beforeAll(async () => {
  await execa('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}, 300_000);

/** Runs the built CLI; never throws on a non-zero exit. */
async function opsbot(args: string[], env: Record<string, string> = {}) {
  const r = await execa(process.execPath, [CLI, ...args], {
    reject: false,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    extendEnv: false,
  });
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

function tmpDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'opsbot-cli-'));
}

describe('opsbot check', () => {
  it('a good config: exit 0, a summary, warnings for people never paged, no colour in a pipe', async () => {
    const file = writeConfig(testConfigYaml());
    const r = await opsbot(['check', '--config', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${file}: valid`);
    expect(r.stdout).toContain('chats: ops (-1001000000001), leads (-1001000000002, topic 7)');
    expect(r.stdout).toContain('people: admin root; approver alice, carol; responder bob');
    expect(r.stdout).toMatch(/^ {2}primary: (alice|bob) on call now until /m);
    expect(r.stdout).toContain('critical: 0s chat:ops → 1h person:root (P0, P1, P2, P3)');
    expect(r.stdout).toContain('[0] team=leads → leads');
    expect(r.stdout).toContain('backups: heartbeat POST /hooks/heartbeat/backups every 1h');
    const shipped = readdirSync('commands').filter((f) => f.endsWith('.yaml')).length;
    expect(r.stdout).toContain(`runbooks: ${shipped} in commands`);
    expect(r.stderr).toContain(`${file}: people.carol: warning: in no schedule`);
    expect(r.stderr).not.toContain('people.alice');
    expect(r.stdout + r.stderr).not.toContain('\u001b[');
  });

  it('a config with three errors: all three, one line each as file: path: message, exit 78', async () => {
    const file = writeConfig(`
chats:
  ops: { id: -100, colour: red }
escalation_policies:
  critical: { levels: [ { after: 5 minutes, notify: [ "chat:ops" ] } ] }
integrations:
  ci: { kind: generic, token: "\${CI_TOKEN_NOT_SET}" }
`);
    const r = await opsbot(['check', '--config', file]);
    expect(r.code).toBe(78);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n').filter((l) => l.startsWith(`${file}: `));
    expect(lines.sort()).toEqual(
      [
        `${file}: chats.ops.colour: unknown key`,
        `${file}: escalation_policies.critical.levels[0].after: expected a duration like 30s, 5m, 2h`,
        `${file}: integrations.ci.token: environment variable CI_TOKEN_NOT_SET is not set`,
      ].sort(),
    );
    expect(r.stderr).toContain('3 errors');
  });

  it('every runbook error, in every file, with file and path', async () => {
    const dir = tmpDir();
    writeFileSync(
      path.join(dir, 'a.yaml'),
      'id: a\ntitle: A\ndescription: d\nsteps: [ { name: s, run: "rm -rf /" } ]\ncolour: red\n',
    );
    writeFileSync(
      path.join(dir, 'b.yaml'),
      'id: a\ntitle: B\ndescription: d\nsteps: [ { name: s, run: [echo, "{{who}}"] } ]\n',
    );
    const file = writeConfig(testConfigYaml().replace(/runbooks_dir: .*/, `runbooks_dir: ${dir}`));
    const r = await opsbot(['check', '--config', file]);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(`${dir}/a.yaml: steps[0].run: expected an argv array`);
    expect(r.stderr).toContain(`${dir}/a.yaml: colour: unknown key`);
    expect(r.stderr).toContain(
      `${dir}/b.yaml: steps[0].run[1]: {{who}} does not name a declared param`,
    );
    expect(r.stderr).toContain('3 errors');
  });

  it('warns: unused policy, shadowed routes, a runbook nobody can approve', async () => {
    const dir = tmpDir();
    writeFileSync(
      path.join(dir, 'lockdown.yaml'),
      'id: lockdown\ntitle: L\ndescription: d\napproval: { required: true, approvers: 2 }\napprove_role: admin\nsteps: [ { name: s, run: [echo, hi] } ]\n',
    );
    const file = writeConfig(`
chats:
  ops: { id: -100 }
  leads: { id: -200 }
people:
  alice: { telegram_id: 1, roles: [responder] }
  root: { telegram_id: 2, roles: [admin] }
schedules:
  primary: { rotation: { start: "2026-01-05T09:00:00Z", shift: 7d, members: [alice] } }
escalation_policies:
  critical: { levels: [ { after: 0s, notify: ["schedule:primary", "person:root"] } ] }
  spare: { levels: [ { after: 0s, notify: ["chat:ops"] } ] }
severities:
  P0: { ack_within: 15m, policy: critical }
routes:
  - { match: { team: leads }, chat: leads }
  - { match: { team: leads, env: prod }, chat: ops }
  - { match: { service: "=~api-.*" }, chat: ops }
  - { match: { service: api-gw }, chat: leads }
  - { match: { service: "!=x" }, chat: leads }
  - { chat: ops }
  - { match: { team: db }, chat: ops }
runbooks_dir: ${dir}
`);
    const r = await opsbot(['check', '--config', file]);
    expect(r.code).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => l.includes(': warning: '));
    expect(warnings).toEqual([
      `${file}: escalation_policies.spare: warning: no severity uses this policy`,
      `${file}: routes[1]: warning: never reached: routes[0] (team=leads) matches every alert it matches`,
      `${file}: routes[3]: warning: never reached: routes[2] (service=~api-.*) matches every alert it matches`,
      `${file}: routes[6]: warning: never reached: routes[5] matches every alert`,
      `${dir}/lockdown.yaml: approval.approvers: warning: needs 2 approver(s) with role admin other than the requester; the config has 1 (root)`,
    ]);
  });
});

describe('opsbot routes test', () => {
  it('lands in a forum topic, with severity, the policy and who each level pages', async () => {
    const file = writeConfig(testConfigYaml());
    const r = await opsbot([
      'routes',
      'test',
      '--config',
      file,
      '--at',
      '2026-01-06T10:00:00Z',
      'team=leads',
      'severity=critical',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('route:    routes[0] team=leads');
    expect(r.stdout).toContain(`chat:     leads (chat ${LEADS}, topic 7)`);
    expect(r.stdout).toContain('topic:    thread_id 7');
    expect(r.stdout).toContain(
      'severity: P0 (from label severity=critical); acknowledge within 15m',
    );
    expect(r.stdout).toContain('policy:   critical');
    expect(r.stdout).toContain('  level 0 after 0s: chat:ops → posts in ops');
    expect(r.stdout).toContain('  level 1 after 1h: person:root → root');
    expect(r.stdout).not.toContain('held back');
  });

  it('a schedule level names who is on call; --redis names the silence that holds it back', async () => {
    const prefix = freshPrefix();
    const redis = createRedis(REDIS_URL);
    try {
      await createSuppressions({
        records: createSuppressionRecords({ redis, keys: createKeys(prefix) }, 'silences'),
        clock: systemClock,
      }).add({
        matchers: { service: '=~api-.*' },
        until: Date.now() + 3_600_000,
        by: 'alice',
        reason: 'deploy',
      });
      const file = writeConfig(
        testConfigYaml({ levels: '      - { after: 0s, notify: ["schedule:primary"] }' }),
      );
      const r = await opsbot(
        [
          'routes',
          'test',
          '--config',
          file,
          '--redis',
          '--at',
          '2026-01-06T10:00:00Z',
          'service=api-gw',
        ],
        { REDIS_URL, OPSBOT_REDIS_PREFIX: prefix },
      );
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('route:    routes[1] service=~api-.*');
      expect(r.stdout).toContain('topic:    none');
      expect(r.stdout).toContain('  level 0 after 0s: schedule:primary → alice');
      expect(r.stdout).toMatch(
        /held back: silence \w+ \(service=~api-\.\*\) by alice until .*"deploy"/,
      );
    } finally {
      redis.disconnect();
      await dropPrefix(prefix);
    }
  });

  it('bad usage: one line, exit 64', async () => {
    const file = writeConfig(testConfigYaml());
    const r = await opsbot(['routes', 'test', '--config', file, 'team']);
    expect(r.code).toBe(64);
    expect(r.stderr.trim().split('\n')).toEqual(['opsbot: expected label=value, got "team"']);
    const u = await opsbot(['routes', 'test', '--nope']);
    expect(u.code).toBe(64);
    expect(u.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('opsbot oncall', () => {
  it('--at across a handover: alice until 09:00, bob from 09:00; Redis overrides with --redis', async () => {
    const file = writeConfig(testConfigYaml());
    const before = await opsbot([
      'oncall',
      '--config',
      file,
      '--at',
      '2026-01-12T08:59:00Z',
      '--json',
    ]);
    expect(before.code).toBe(0);
    expect(JSON.parse(before.stdout)).toEqual({
      at: '2026-01-12T08:59:00.000Z',
      schedules: [
        {
          schedule: 'primary',
          on_call: {
            person: 'alice',
            from: '2026-01-05T09:00:00.000Z',
            to: '2026-01-12T09:00:00.000Z',
            override: false,
          },
          next: {
            person: 'bob',
            from: '2026-01-12T09:00:00.000Z',
            to: '2026-01-19T09:00:00.000Z',
            override: false,
          },
        },
      ],
    });
    const after = await opsbot(['oncall', '--config', file, '--at', '2026-01-12T09:00:00Z']);
    expect(after.stdout).toContain(
      '  primary: bob until 2026-01-19 09:00 UTC; next alice from 2026-01-19 09:00 UTC',
    );

    // an /override stored in Redis (as the bot stores it) wins over the rotation
    const prefix = freshPrefix();
    const redis = createRedis(REDIS_URL);
    try {
      const from = Date.now() - 60_000;
      const to = Date.now() + 3_600_000;
      await redis.hset(
        createKeys(prefix).overrides(),
        'primary',
        JSON.stringify([{ person: 'root', from, to }]),
      );
      const env = { REDIS_URL, OPSBOT_REDIS_PREFIX: prefix };
      const now = await opsbot(['oncall', '--config', file, '--redis', '--json'], env);
      expect(now.code).toBe(0);
      const row = (JSON.parse(now.stdout) as { schedules: { on_call: unknown }[] }).schedules[0]!;
      expect(row.on_call).toEqual({
        person: 'root',
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        override: true,
      });
      const without = await opsbot(['oncall', '--config', file, '--json'], env);
      expect(without.stdout).not.toContain('"root"');
    } finally {
      redis.disconnect();
      await dropPrefix(prefix);
    }
  });

  it('an unknown schedule is bad usage', async () => {
    const file = writeConfig(testConfigYaml());
    const r = await opsbot(['oncall', '--config', file, '--schedule', 'nope']);
    expect(r.code).toBe(64);
    expect(r.stderr.trim()).toBe('opsbot: --schedule: unknown schedule "nope" (known: primary)');
  });
});

describe('opsbot alert', () => {
  it('a test alert becomes an incident in a running app; --resolve resolves it', async () => {
    const kit = await startTelegram({ storeTimeout: 3600 });
    const t = await startTestApp({ apiRoot: kit.apiRoot, token: kit.token, polling: false });
    try {
      const args = ['alert', '--url', t.url, '--token', TOKENS.ci, '--severity', 'P1'];
      const r = await opsbot([...args, 'Disk full on db-1', 'service=db', 'team=storage']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const id = r.stdout.trim();
      expect(id).toMatch(/^INC-\d+$/);
      const got = await fetch(`${t.url}/api/v1/incidents/${id}`, {
        headers: { authorization: `Bearer ${TOKENS.api}` },
      });
      const inc = (await got.json()) as Record<string, unknown>;
      expect(inc).toMatchObject({
        id,
        title: 'Disk full on db-1',
        severity: 'P1',
        state: 'triggered',
      });
      expect(inc.labels).toMatchObject({ service: 'db', team: 'storage' });

      const res = await opsbot([
        ...args,
        '--resolve',
        'Disk full on db-1',
        'service=db',
        'team=storage',
      ]);
      expect(res.code).toBe(0);
      expect(res.stdout.trim()).toBe(id);
      const after = await fetch(`${t.url}/api/v1/incidents/${id}`, {
        headers: { authorization: `Bearer ${TOKENS.api}` },
      });
      expect(((await after.json()) as { state: string }).state).toBe('resolved');

      const bad = await opsbot(['alert', '--url', t.url, '--token', 'wrong-token-123456', 'x']);
      expect(bad.code).toBe(1);
      expect(bad.stderr.trim()).toMatch(/^opsbot: .*\/hooks\/generic: HTTP 401/);
    } finally {
      await t.stop();
      await kit.stop();
      await dropPrefix(t.prefix);
    }
  });
});

describe('opsbot schema and usage', () => {
  it('the committed schemas are what `opsbot schema` generates now', async () => {
    const cfg = await opsbot(['schema', '-']);
    expect(cfg.code).toBe(0);
    const stale = 'stale: run `npm run build && npx opsbot schema` and commit both files';
    expect(readFileSync('opsbot.schema.json', 'utf8'), stale).toBe(cfg.stdout + '\n');
    const rb = await opsbot(['schema', '--runbook', '-']);
    expect(readFileSync('runbook.schema.json', 'utf8'), stale).toBe(rb.stdout + '\n');
    // editors find them: the example config and every shipped runbook name their schema
    expect(readFileSync('opsbot.example.yaml', 'utf8').split('\n')[0]).toBe(
      '# yaml-language-server: $schema=./opsbot.schema.json',
    );
    for (const f of readdirSync('commands').filter((n) => /\.ya?ml$/.test(n)))
      expect(readFileSync(path.join('commands', f), 'utf8').split('\n')[0], f).toBe(
        '# yaml-language-server: $schema=../runbook.schema.json',
      );
  });

  it('`opsbot schema` writes both files', async () => {
    const dir = tmpDir();
    mkdirSync(path.join(dir, 'x'));
    const r = await execa(process.execPath, [CLI, 'schema'], { cwd: path.join(dir, 'x') });
    expect(r.stdout.split('\n')).toEqual(['wrote opsbot.schema.json', 'wrote runbook.schema.json']);
    expect(readFileSync(path.join(dir, 'x', 'opsbot.schema.json'), 'utf8')).toBe(
      readFileSync('opsbot.schema.json', 'utf8'),
    );
  });

  it('--help on every command; bad usage is one line and exit 64', async () => {
    for (const cmd of [
      [],
      ['run'],
      ['check'],
      ['routes'],
      ['routes', 'test'],
      ['oncall'],
      ['alert'],
      ['schema'],
    ]) {
      const r = await opsbot([...cmd, '--help']);
      expect(r.code, cmd.join(' ')).toBe(0);
      expect(r.stdout, cmd.join(' ')).toMatch(/^Usage: opsbot/);
    }
    for (const bad of [
      [],
      ['frobnicate'],
      ['check', '--nope'],
      ['alert', 'title'],
      ['oncall', '--at', 'soon'],
    ]) {
      const r = await opsbot(bad);
      expect(r.code, bad.join(' ')).toBe(64);
      expect(r.stderr.trim().split('\n'), bad.join(' ')).toHaveLength(1);
      expect(r.stdout, bad.join(' ')).toBe('');
    }
  });
});

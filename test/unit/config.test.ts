import { describe, expect, it } from 'vitest';
import {
  configWarnings,
  interpolateEnv,
  loadEnv,
  parseConfig,
  roleAtLeast,
  validateConfig,
} from '../../src/config.js';
import { clusterPrefix } from '../../src/store/redis.js';
import { ConfigError } from '../../src/errors.js';
import { testConfigYaml } from '../helpers/config.js';

const errorOf = (yaml: string, env: NodeJS.ProcessEnv = {}) => {
  try {
    parseConfig(yaml, env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('config', () => {
  it('parses the test config with durations in ms', () => {
    const c = parseConfig(testConfigYaml(), {});
    expect(c.severities.P0?.ack_within).toBe(15 * 60_000);
    expect(c.escalation_policies.critical?.levels[1]?.after).toBe(3_600_000);
    expect(c.outbox.group_per_minute).toBe(20);
  });

  it('names the path of a bad duration', () => {
    const yaml = testConfigYaml({
      levels: `      - { after: 0s, notify: ["chat:ops"] }\n      - { after: soon, notify: ["person:root"] }`,
    });
    expect(errorOf(yaml)).toBe(
      'escalation_policies.critical.levels[1].after: expected a duration like 30s, 5m, 2h',
    );
  });

  it('rejects unknown keys', () => {
    expect(errorOf(testConfigYaml({ extra: 'colour: blue' }))).toMatch(
      /colour|Unrecognized|unknown/i,
    );
  });

  it('reports a shape problem and a reference problem in one run (opsbot check)', () => {
    const yaml = testConfigYaml({
      levels: `      - { after: 0s, notify: ["person:nobody"] }`,
      extra: 'chats2: {}\nhttp: { max_in_flight: many }',
    });
    const { issues } = validateConfig(yaml, {});
    expect(issues).toEqual([
      { path: 'http.max_in_flight', message: 'Invalid input: expected number, received string' },
      { path: 'chats2', message: 'unknown key' },
      {
        path: 'escalation_policies.critical.levels[0].notify[0]',
        message: 'unknown person "nobody"',
      },
    ]);
  });

  it('rejects policies naming unknown people, schedules and chats', () => {
    const yaml = testConfigYaml({ levels: `      - { after: 0s, notify: ["person:nobody"] }` });
    expect(errorOf(yaml)).toBe(
      'escalation_policies.critical.levels[0].notify[0]: unknown person "nobody"',
    );
    const y2 = testConfigYaml({ levels: `      - { after: 0s, notify: ["schedule:ghost"] }` });
    expect(errorOf(y2)).toMatch(/unknown schedule "ghost"/);
  });

  it('replaces ${VAR} and fails naming the path when a variable is missing', () => {
    expect(interpolateEnv({ a: { b: 'x-${FOO}' } }, { FOO: 'bar' })).toEqual({ a: { b: 'x-bar' } });
    const yaml = testConfigYaml().replace('prom-token-123456', '${PROM_TOKEN}');
    expect(errorOf(yaml)).toBe(
      'integrations.prometheus.token: environment variable PROM_TOKEN is not set',
    );
    expect(
      parseConfig(yaml, { PROM_TOKEN: 'from-env-1234567890' }).integrations.prometheus?.token,
    ).toBe('from-env-1234567890');
  });

  it('requires the bot token and reads env defaults', () => {
    expect(() => loadEnv({})).toThrow(ConfigError);
    const e = loadEnv({ TELEGRAM_BOT_TOKEN: 'x' });
    expect(e.apiRoot).toBe('https://api.telegram.org');
    expect(e.httpPort).toBe(8080);
    expect(e.redisUrl).toBe('redis://127.0.0.1:6379');
  });

  it('reads Redis Cluster seed nodes, and names the variable when one is malformed', () => {
    const e = loadEnv({
      TELEGRAM_BOT_TOKEN: 'x',
      REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-b:7001',
    });
    expect(e.redisClusterNodes).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-b', port: 7001 },
    ]);
    expect(loadEnv({ TELEGRAM_BOT_TOKEN: 'x' }).redisClusterNodes).toBeUndefined();
    expect(() => loadEnv({ TELEGRAM_BOT_TOKEN: 'x', REDIS_CLUSTER_NODES: 'redis-a' })).toThrow(
      /REDIS_CLUSTER_NODES: expected host:port/,
    );
    expect(() => loadEnv({ TELEGRAM_BOT_TOKEN: 'x', REDIS_CLUSTER_NODES: 'a:1,b:99999' })).toThrow(
      /"b:99999"/,
    );
  });

  it('wraps a cluster prefix in one hash tag so every key shares a slot', () => {
    expect(clusterPrefix('opsbot:')).toBe('{opsbot}:');
    expect(clusterPrefix('team-a:')).toBe('{team-a}:');
    expect(clusterPrefix('{mine}:x:')).toBe('{mine}:x:');
  });

  it('orders roles as a ladder', () => {
    expect(roleAtLeast('admin', 'approver')).toBe(true);
    expect(roleAtLeast('responder', 'approver')).toBe(false);
    expect(roleAtLeast('viewer', 'viewer')).toBe(true);
  });
});

describe('config: secrets and service accounts (issue 13)', () => {
  it('refuses integration tokens and api_token shorter than 16 characters, naming the path', () => {
    const short = testConfigYaml().replace('prom-token-123456', 'prom-tok-123456');
    expect(errorOf(short)).toBe(
      'integrations.prometheus.token: must be at least 16 characters (use a long random value)',
    );
    const api = testConfigYaml().replace('api-token-123456', 'api-token-12345');
    expect(errorOf(api)).toMatch(/^api_token: must be at least 16 characters/);
  });

  it('WEBHOOK_URL without TELEGRAM_WEBHOOK_SECRET, or with a short one, is a config error', () => {
    const url = {
      TELEGRAM_BOT_TOKEN: 'x',
      WEBHOOK_URL: 'https://bot.example.com/telegram/webhook',
    };
    expect(() => loadEnv(url)).toThrow(
      /^TELEGRAM_WEBHOOK_SECRET: required when WEBHOOK_URL is set/,
    );
    expect(() => loadEnv({ ...url, TELEGRAM_WEBHOOK_SECRET: 'short-secret' })).toThrow(
      /^TELEGRAM_WEBHOOK_SECRET: must be at least 16 characters/,
    );
    expect(loadEnv({ ...url, TELEGRAM_WEBHOOK_SECRET: 'a-long-enough-secret' }).webhookSecret).toBe(
      'a-long-enough-secret',
    );
  });

  it('warns about a Telegram service account listed in people', () => {
    const yaml = testConfigYaml().replace('telegram_id: 1003,', 'telegram_id: 1087968824,');
    expect(configWarnings(parseConfig(yaml, {}))).toEqual([
      'people.root.telegram_id: 1087968824 is a Telegram service account that anyone can post as; it is treated as an unlisted viewer',
    ]);
    expect(configWarnings(parseConfig(testConfigYaml(), {}))).toEqual([]);
  });

  it('defaults the per-person command limit to 20 a minute', () => {
    expect(parseConfig(testConfigYaml().replace(/\nlimits:.*\n/, '\n'), {}).limits).toEqual({
      commands_per_minute: 20,
    });
  });
});

/**
 * Shared pieces of the `opsbot` CLI: usage errors (exit 64), colour only on a TTY, label and time
 * arguments, the config loader that collects every problem, and Redis from the environment.
 */
import path from 'node:path';
import { styleText } from 'node:util';
import type { Redis } from 'ioredis';
import { loadEnv, validateConfig, type ConfigIssue, type OpsbotConfig } from '../config.js';
import { parseDuration } from '../duration.js';
import { readConfigText } from '../errors.js';
import { createKeys, type Keys } from '../store/keys.js';
import { clusterPrefix, createRedis, createRedisCluster } from '../store/redis.js';

/** EX_USAGE: the command was used incorrectly. */
export const EX_USAGE = 64;
/** EX_UNAVAILABLE: a service the command needs (Redis, the opsbot URL) did not answer. */
export const EX_UNAVAILABLE = 69;

/** A usage problem: printed as one line, exit 64. */
export class UsageError extends Error {}

/** A failure with its own exit code and one line to print. */
export class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

type Style = Parameters<typeof styleText>[0];

/** Colours text for `stream` only when it is a terminal and NO_COLOR is unset (no-color.org). */
export function painter(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env) {
  const on = !!stream.isTTY && !env.NO_COLOR;
  return (style: Style, text: string) => (on ? styleText(style, text) : text);
}

/** Parses `name=value` arguments into labels; anything else is a usage error. */
export function parseLabelArgs(args: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const a of args) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(a);
    if (!m) throw new UsageError(`expected label=value, got "${a}"`);
    labels[m[1]!] = m[2]!;
  }
  return labels;
}

/** `now`, an ISO time (`2026-03-01T09:00:00Z`), or an offset from now (`+2h`, `-30m`). */
export function parseTimeArg(text: string, now: number): number {
  const t = text.trim();
  if (t === 'now') return now;
  const rel = /^([+-])(.+)$/.exec(t);
  if (rel) {
    const ms = parseDuration(rel[2]!);
    if (ms !== undefined) return rel[1] === '+' ? now + ms : now - ms;
  }
  const abs = Date.parse(t);
  if (Number.isNaN(abs))
    throw new UsageError(`--at: expected now, an ISO time or +2h / -30m, got "${text}"`);
  return abs;
}

/** ISO time to the minute, in UTC: `2026-03-01 09:00 UTC`. */
export function isoMinute(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The config file: `--config`, else OPSBOT_CONFIG, else ./opsbot.yaml (as the bot reads it). */
export function configPath(opt: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return opt || env.OPSBOT_CONFIG || './opsbot.yaml';
}

/** How a file is shown in messages: relative to the working directory when it lies below it. */
export function shown(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

/**
 * Reads and validates a config file, collecting every problem; `runbooks_dir` is resolved against
 * the file's folder, as the bot does.
 */
export function readConfig(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): { config?: OpsbotConfig; issues: ConfigIssue[] } {
  let text: string;
  try {
    text = readConfigText(file, 'config');
  } catch (e) {
    return { issues: [{ path: '(root)', message: (e as Error).message.slice(file.length + 2) }] };
  }
  const checked = validateConfig(text, env);
  if (checked.config)
    checked.config.runbooks_dir = path.resolve(path.dirname(file), checked.config.runbooks_dir);
  return checked;
}

/** Reads a config that must be valid (for routes test and oncall); otherwise fails with exit 78. */
export function requireConfig(file: string, env: NodeJS.ProcessEnv = process.env): OpsbotConfig {
  const { config, issues } = readConfig(file, env);
  if (!config) {
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more; run opsbot check)` : '';
    throw new CliFailure(`${file}: ${issues[0]!.path}: ${issues[0]!.message}${more}`, 78);
  }
  return config;
}

/**
 * Redis as the bot reaches it (REDIS_URL or REDIS_CLUSTER_NODES, OPSBOT_REDIS_PREFIX), without
 * reconnect loops: a CLI run fails fast when Redis is not there.
 */
export function redisFromEnv(env: NodeJS.ProcessEnv = process.env): { redis: Redis; keys: Keys } {
  // the bot token is not needed to read Redis; loadEnv gives the same defaults the bot uses
  const settings = loadEnv({ ...env, TELEGRAM_BOT_TOKEN: env.TELEGRAM_BOT_TOKEN || 'unused' });
  const failFast = { retryStrategy: () => null, maxRetriesPerRequest: 0 };
  if (settings.redisClusterNodes?.length) {
    const redis = createRedisCluster(settings.redisClusterNodes, undefined, {
      ...failFast,
      ...(settings.redisPassword ? { password: settings.redisPassword } : {}),
    });
    return { redis, keys: createKeys(clusterPrefix(settings.redisPrefix)) };
  }
  const redis = createRedis(settings.redisUrl, undefined, failFast);
  return { redis, keys: createKeys(settings.redisPrefix) };
}

/** Runs `fn` with Redis from the environment and always disconnects. */
export async function withRedis<T>(
  fn: (r: { redis: Redis; keys: Keys }) => Promise<T>,
): Promise<T> {
  const r = redisFromEnv();
  try {
    return await fn(r);
  } catch (e) {
    if (e instanceof CliFailure || e instanceof UsageError) throw e;
    throw new CliFailure(`redis: ${(e as Error).message}`, EX_UNAVAILABLE);
  } finally {
    r.redis.disconnect();
  }
}

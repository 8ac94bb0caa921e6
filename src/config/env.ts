import { ConfigError } from '../errors.js';
import { MIN_SECRET, SECRET_HINT } from './schema.js';

export interface EnvSettings {
  botToken: string;
  apiRoot: string;
  redisUrl: string;
  redisPrefix: string;
  /** Redis Cluster seed nodes (`REDIS_CLUSTER_NODES=host:port,...`); unset: one Redis at `redisUrl`. */
  redisClusterNodes?: { host: string; port: number }[];
  /** AUTH password for the cluster nodes (`REDIS_PASSWORD`); a single Redis takes it in `REDIS_URL`. */
  redisPassword?: string;
  configPath: string;
  httpHost: string;
  httpPort: number;
  webhookUrl?: string;
  webhookSecret?: string;
  logLevel: string;
}

function parseNodes(raw: string): { host: string; port: number }[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const m = /^\[?([^\]\s]+?)\]?:(\d{1,5})$/.exec(entry);
      const port = Number(m?.[2]);
      if (!m || port < 1 || port > 65535)
        throw new ConfigError(
          `REDIS_CLUSTER_NODES: expected host:port[,host:port...], got "${entry}"`,
        );
      return { host: m[1]!, port };
    });
}

export function loadEnv(env: NodeJS.ProcessEnv = process.env): EnvSettings {
  const botToken = env.TELEGRAM_BOT_TOKEN;
  if (!botToken) throw new ConfigError('TELEGRAM_BOT_TOKEN: environment variable is required');
  const port = Number(env.HTTP_PORT ?? 8080);
  const webhookUrl = env.WEBHOOK_URL || undefined;
  const webhookSecret = env.TELEGRAM_WEBHOOK_SECRET || undefined;
  if (webhookUrl && !webhookSecret)
    throw new ConfigError(
      'TELEGRAM_WEBHOOK_SECRET: required when WEBHOOK_URL is set (without it every update would be refused)',
    );
  if (webhookSecret && webhookSecret.length < MIN_SECRET)
    throw new ConfigError(`TELEGRAM_WEBHOOK_SECRET: ${SECRET_HINT}`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`HTTP_PORT: expected a port number, got "${env.HTTP_PORT}"`);
  }
  return {
    botToken,
    apiRoot: (env.TELEGRAM_API_ROOT || 'https://api.telegram.org').replace(/\/+$/, ''),
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
    redisPrefix: env.OPSBOT_REDIS_PREFIX || 'opsbot:',
    ...(env.REDIS_CLUSTER_NODES ? { redisClusterNodes: parseNodes(env.REDIS_CLUSTER_NODES) } : {}),
    ...(env.REDIS_PASSWORD ? { redisPassword: env.REDIS_PASSWORD } : {}),
    configPath: env.OPSBOT_CONFIG || './opsbot.yaml',
    httpHost: env.HTTP_HOST || '0.0.0.0',
    httpPort: port,
    webhookUrl,
    webhookSecret,
    logLevel: env.LOG_LEVEL || 'info',
  };
}

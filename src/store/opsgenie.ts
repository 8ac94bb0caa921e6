import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

/** The Opsgenie-compatible API's records: alias → incident per integration, request id → result. */
export interface OpsgenieStore {
  /** The incident an alias names in an integration, if the alias is still known. */
  aliasOf(integration: string, alias: string): Promise<string | undefined>;
  /** Points an alias at an incident for `ttlS` seconds. */
  setAlias(integration: string, alias: string, incident: string, ttlS: number): Promise<void>;
  /** Keeps a request's result (JSON) for `ttlS` seconds. */
  saveRequest(requestId: string, record: Record<string, unknown>, ttlS: number): Promise<void>;
  /** A request's stored result, if it is still kept. */
  request(requestId: string): Promise<unknown>;
}

export function createOpsgenieStore(deps: { redis: Redis; keys: Keys }): OpsgenieStore {
  const { redis, keys } = deps;
  return {
    async aliasOf(integration, alias) {
      return (await redis.get(keys.opsgenieAlias(integration, alias))) ?? undefined;
    },
    async setAlias(integration, alias, incident, ttlS) {
      await redis.set(keys.opsgenieAlias(integration, alias), incident, 'EX', ttlS);
    },
    async saveRequest(requestId, record, ttlS) {
      await redis.set(keys.opsgenieRequest(requestId), JSON.stringify(record), 'EX', ttlS);
    },
    async request(requestId) {
      const raw = await redis.get(keys.opsgenieRequest(requestId));
      return raw ? (JSON.parse(raw) as unknown) : undefined;
    },
  };
}

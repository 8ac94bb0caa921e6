import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { projectRoot } from '../paths.js';

const SCRIPTS = [
  'incident_upsert',
  'apply_effects',
  'outbox_claim',
  'outbox_finish',
  'timer_claim',
  'approval_vote',
  'lock_release',
  'lock_renew',
  'ix_migrate',
  'ix_compact',
  'trade_decide',
  'override_add',
  'inc_page',
  'timer_hold',
] as const;
type ScriptName = (typeof SCRIPTS)[number];

function luaDir(): string {
  return path.join(projectRoot(), 'src', 'store', 'lua');
}

let cache: Map<ScriptName, string> | undefined;
function sources(): Map<ScriptName, string> {
  if (!cache) {
    const dir = luaDir();
    const common = readFileSync(path.join(dir, 'common.lua'), 'utf8');
    cache = new Map(
      SCRIPTS.map((n) => [n, `${common}\n${readFileSync(path.join(dir, `${n}.lua`), 'utf8')}`]),
    );
  }
  return cache;
}

type Reply = string | number | null | Reply[];

/** Typed access to the Lua scripts in src/store/lua, loaded once per client (EVALSHA with fallback). */
export interface Scripts {
  run(name: ScriptName, args: (string | number)[]): Promise<Reply>;
}

/**
 * `routeKey` is passed as the scripts' one KEYS entry: the scripts derive their key names from the
 * prefix (ARGV[1]), and this key, sharing the prefix's hash tag, tells a Cluster client which node
 * owns them (on a single Redis it is simply unused).
 */
export function createScripts(redis: Redis, routeKey = 'opsbot:route'): Scripts {
  const src = sources();
  for (const [name, lua] of src) {
    if (!(name in redis)) redis.defineCommand(name, { numberOfKeys: 1, lua });
  }
  return {
    run(name, args) {
      const fn = (
        redis as unknown as Record<string, (...a: (string | number)[]) => Promise<Reply>>
      )[name]!;
      return fn.apply(redis, [routeKey, ...args]);
    },
  };
}

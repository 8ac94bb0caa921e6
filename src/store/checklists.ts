import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

/**
 * Ticks an item (field → who ticked it) or, when already ticked, clears it, and returns the whole
 * checklist after the change: one step, so two presses at once cannot both tick or both clear.
 */
const TOGGLE = `
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  return {1, redis.call('HGETALL', KEYS[1])}
end
redis.call('HDEL', KEYS[1], ARGV[1])
return {0, redis.call('HGETALL', KEYS[1])}
`;

type ToggleCommand = (key: string, field: string, by: string) => Promise<[number, string[]]>;

/** An incident's response checklist: which items are ticked, and by whom. */
export interface ChecklistStore {
  /** Ticks `item` for `by`, or clears it if it was ticked; the checklist after the change. */
  toggle(
    incidentId: string,
    item: number,
    by: string,
  ): Promise<{ ticked: boolean; state: Record<string, string> }>;
}

export function createChecklistStore(deps: { redis: Redis; keys: Keys }): ChecklistStore {
  const { redis, keys } = deps;
  if (!('opsbotChecklistToggle' in redis))
    redis.defineCommand('opsbotChecklistToggle', { numberOfKeys: 1, lua: TOGGLE });
  const run = (redis as unknown as { opsbotChecklistToggle: ToggleCommand }).opsbotChecklistToggle;
  return {
    async toggle(incidentId, item, by) {
      const [ticked, flat] = await run.call(redis, keys.checklist(incidentId), String(item), by);
      const state: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) state[flat[i]!] = flat[i + 1]!;
      return { ticked: ticked === 1, state };
    },
  };
}

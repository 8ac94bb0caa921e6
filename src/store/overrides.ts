import type { Scripts } from './scripts.js';
import type { Keys } from './keys.js';

/** One runtime on-call override: `person` is on call for the schedule from `from` to `to` (ms). */
export interface OverrideEntry {
  person: string;
  from: number;
  to: number;
}

/** Runtime on-call overrides (/override), added in one script step. */
export interface OverrideStore {
  /** Appends overrides to a schedule atomically, so an accepted /cover at the same moment is kept. */
  add(schedule: string, entries: OverrideEntry[], now: number): Promise<void>;
}

export function createOverrideStore(deps: { scripts: Scripts; keys: Keys }): OverrideStore {
  const { scripts } = deps;
  return {
    async add(schedule, entries, now) {
      await scripts.overrideAdd(now, schedule, entries);
    },
  };
}

import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { PendingSilence, Suppression } from '../domain/suppression.js';
import type { SuppressionRecords } from '../store/suppressions.js';
import type { OpsbotConfig, Role } from '../config.js';
import { matchLabels, rejectsEmpty, specProblem, toSpec, type MatchOp } from '../matching/re2.js';

export type { PendingSilence, Suppression, SuppressionSnapshot } from '../domain/suppression.js';

/** How long a preview waits for Confirm. */
export const PENDING_SILENCE_TTL_MS = 10 * 60_000;

/**
 * Parses `key=value key=~re key!=v key!~re` matchers (RE2, fully anchored; see src/matching/re2.ts).
 * A bad one gives the token and the problem (not a matcher, invalid or too long regex).
 */
export function parseMatchers(
  tokens: string[],
): { matchers: Record<string, string> } | { error: string; problem?: string } {
  const matchers: Record<string, string> = {};
  for (const tok of tokens) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(=~|!~|!=|=)(.+)$/.exec(tok);
    if (!m) return { error: tok };
    const [, k, op, v] = m as unknown as [string, string, string, string];
    const spec = toSpec(op as MatchOp, v);
    const problem = specProblem(spec);
    if (problem) return { error: tok, problem };
    matchers[k] = spec;
  }
  return { matchers };
}

/** True when some matcher cannot hold for a missing label, so the set cannot match every alert. */
export function cannotMatchEverything(matchers: Record<string, string>): boolean {
  return Object.values(matchers).some(rejectsEmpty);
}

/** The longest silence a role may set (`silences.max_duration`); viewers may set none. */
export function maxSilenceMs(cfg: OpsbotConfig, role: Role): number {
  const m = cfg.silences.max_duration;
  if (role === 'admin') return m.admin;
  if (role === 'approver') return m.approver ?? m.responder;
  if (role === 'responder') return m.responder;
  return 0;
}

/** Silences or maintenance windows (one kind each, by the records handed in). */
export function createSuppressions(deps: { records: SuppressionRecords; clock: Clock }) {
  const { records, clock } = deps;
  async function active(): Promise<Suppression[]> {
    const now = clock.now();
    const all = await records.all();
    await records.drop(all.filter((s) => s.until <= now).map((s) => s.id));
    return all.filter((s) => s.until > now).sort((a, b) => a.until - b.until);
  }
  const fresh = (s: Omit<Suppression, 'id' | 'createdAt'>): Suppression => ({
    ...s,
    id: randomBytes(6).toString('hex'),
    createdAt: clock.now(),
  });
  return {
    active,
    async add(s: Omit<Suppression, 'id' | 'createdAt'>): Promise<Suppression> {
      const full = fresh(s);
      // the version bump tells intake's cache (checked inside its script) to reload at once
      await records.put(full);
      return full;
    },
    /**
     * The silence as part of a larger atomic plan (a /silence and its Alertmanager copies): its hash
     * entry and the version bump that tells intake's cache to reload.
     */
    prepare(s: Omit<Suppression, 'id' | 'createdAt'>): {
      entry: Suppression;
      hset: { key: string; field: string; value: string };
      incr: { key: string; by: number };
    } {
      const entry = fresh(s);
      return { entry, ...records.putPlan(entry) };
    },
    async expire(id: string): Promise<boolean> {
      return records.remove(id);
    },
    /** Stores a silence awaiting confirmation under a random 128-bit token (expires). */
    async propose(p: PendingSilence): Promise<string> {
      const token = randomBytes(16).toString('hex');
      await records.putPending(token, p, PENDING_SILENCE_TTL_MS);
      return token;
    },
    /** The pending silence under this token, if it has not expired or been taken. */
    async pending(token: string): Promise<PendingSilence | undefined> {
      return records.getPending(token);
    },
    /** Takes the pending silence once: of two presses, one gets it. */
    async takePending(token: string): Promise<PendingSilence | undefined> {
      return records.takePending(token);
    },
    /** The active entry matching these labels that lasts longest, if any. */
    async matching(labels: Record<string, string>): Promise<Suppression | undefined> {
      const hits = (await active()).filter((s) => matchLabels(s.matchers, labels));
      return hits.sort((a, b) => b.until - a.until)[0];
    },
  };
}

export type SuppressionStore = ReturnType<typeof createSuppressions>;

/** The active entry of `list` matching these labels that lasts longest, if any (no Redis). */
export function matchingSuppression(
  list: Suppression[],
  labels: Record<string, string>,
  now: number,
): Suppression | undefined {
  let best: Suppression | undefined;
  for (const s of list)
    if (s.until > now && matchLabels(s.matchers, labels) && (!best || s.until > best.until))
      best = s;
  return best;
}

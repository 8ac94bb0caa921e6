import { SEVERITIES, type Severity } from '../domain/severity.js';

/** What a person gets in their private chat: new incidents of this severity or worse, or nothing. */
export type DmSetting = Severity | 'off';

export function isDmSetting(v: string): v is DmSetting {
  return v === 'off' || (SEVERITIES as readonly string[]).includes(v);
}

/** Of the stored settings `subs`, the private chats that want a new incident of `severity`. */
export function dmRecipients(
  subs: Record<string, string>,
  severity: Severity,
  known: ReadonlySet<string>,
): string[] {
  const rank = SEVERITIES.indexOf(severity);
  // 'off' (or anything unknown) has no rank, so it never matches
  return Object.entries(subs)
    .filter(([id, v]) => known.has(id) && rank <= SEVERITIES.indexOf(v as Severity))
    .map(([id]) => id);
}

/** A silence (/silence) or maintenance window (/maintenance): matching incidents are recorded, not notified. */
export interface Suppression {
  id: string;
  matchers: Record<string, string>;
  until: number;
  by: string;
  createdAt: number;
  reason?: string;
}

/** A /silence shown as a preview, waiting for its author's Confirm. */
export interface PendingSilence {
  matchers: Record<string, string>;
  until: number;
  reason?: string;
  /** Name and Telegram id of the person who asked; only they may confirm or cancel. */
  by: string;
  byId: number;
}

/**
 * What intake checks every alert against: active silences and maintenance windows and the DM
 * subscriptions, read in one round trip with the version every change to them bumps.
 * Intake keeps this in memory and hands the version to its script, which refuses the batch when the
 * version moved (nothing written); intake then reloads and retries, so a new silence applies to the
 * very next alert, on every replica.
 */
export interface SuppressionSnapshot {
  version: string;
  silences: Suppression[];
  maintenance: Suppression[];
  dmSubs: Record<string, string>;
}

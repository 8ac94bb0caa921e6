/** What made an override: /override (or config) when absent, an accepted /cover or /swap otherwise. */
export type OverrideKind = 'cover' | 'swap';

/** Someone on call instead of the rotation, from `from` to `to`. */
export interface Override {
  person: string;
  from: number;
  to: number;
  /** Set for covers and swaps: the kind, and whose shift this replaces. */
  kind?: OverrideKind;
  for?: string;
}

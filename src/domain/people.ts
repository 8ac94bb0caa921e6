/** People and roles: who acts, and what their role lets them do. */

export const ROLES = ['viewer', 'responder', 'approver', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** True when `have` is at least `need` on the role ladder viewer < responder < approver < admin. */
export function roleAtLeast(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

/** Who pressed or typed: a configured person, or a stranger (viewer). */
export interface Person {
  /** Config name (e.g. `alice`) or, for strangers, their Telegram name. */
  name: string;
  role: Role;
  telegramId: number;
  known: boolean;
}

/**
 * Telegram's service accounts: 777000 (Telegram, channel posts forwarded into a linked group),
 * 1087968824 (GroupAnonymousBot, an anonymous group admin) and 136817688 (Channel_Bot, a message
 * sent on behalf of a channel). Anyone can post as them, so they never get a configured role.
 */
export const SERVICE_ACCOUNTS: ReadonlySet<number> = new Set([777000, 1087968824, 136817688]);

/** The configured people, by name: their Telegram id and roles. */
export type People = Readonly<
  Record<string, { readonly telegram_id: number; readonly roles: readonly Role[] }>
>;

/**
 * Resolves a Telegram user to a configured person; people not listed are viewers, and so are
 * Telegram's service accounts (anyone can post as them), even when the config lists them.
 */
export function resolvePerson(
  people: People,
  user: { id: number; first_name?: string; username?: string },
): Person {
  for (const [name, p] of Object.entries(people)) {
    if (p.telegram_id === user.id && !SERVICE_ACCOUNTS.has(user.id)) {
      const role = p.roles.reduce<Role>(
        (best, r) => (ROLES.indexOf(r) > ROLES.indexOf(best) ? r : best),
        'viewer',
      );
      return { name, role, telegramId: user.id, known: true };
    }
  }
  const name = user.username ? `@${user.username}` : user.first_name || String(user.id);
  return { name, role: 'viewer', telegramId: user.id, known: false };
}

import type { OpsbotConfig, Role } from '../config.js';
import { ROLES, SERVICE_ACCOUNTS, roleAtLeast } from '../config.js';
import type { BotContext, Person } from './context.js';

/**
 * Resolves a Telegram user to a configured person; people not listed are viewers, and so are
 * Telegram's service accounts (anyone can post as them), even when the config lists them.
 */
export function personOf(
  config: OpsbotConfig,
  user: { id: number; first_name?: string; username?: string },
): Person {
  for (const [name, p] of Object.entries(config.people)) {
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

/** True when the person may act; otherwise replies (or answers the button) naming the role needed. */
export async function requireRole(ctx: BotContext, need: Role): Promise<boolean> {
  if (roleAtLeast(ctx.person.role, need)) return true;
  const text = ctx.tr('refused-role', {
    role: ctx.tr(`role-${need}`),
    yours: ctx.tr(`role-${ctx.person.role}`),
  });
  if (ctx.callbackQuery) await ctx.answerCallbackQuery({ text: stripTags(text), show_alert: true });
  else await ctx.replyHtml(text);
  return false;
}

export function stripTags(html: string): string {
  return html
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .slice(0, 200);
}

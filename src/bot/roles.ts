import type { OpsbotConfig, Role } from '../config.js';
import { roleAtLeast } from '../config.js';
import { resolvePerson, type Person } from '../domain/people.js';
import type { BotContext } from './context.js';

/**
 * Resolves a Telegram user to a configured person; people not listed are viewers, and so are
 * Telegram's service accounts (anyone can post as them), even when the config lists them.
 */
export function personOf(
  config: OpsbotConfig,
  user: { id: number; first_name?: string; username?: string },
): Person {
  return resolvePerson(config.people, user);
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

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

/** Minimum role of each command, for /help and refusals. */
export const COMMAND_ROLES: Record<string, Role> = {
  start: 'viewer',
  help: 'viewer',
  status: 'viewer',
  lang: 'viewer',
  incidents: 'viewer',
  incident: 'viewer',
  oncall: 'viewer',
  runbooks: 'viewer',
  runbook: 'viewer',
  silences: 'viewer',
  stats: 'viewer',
  ack: 'responder',
  resolve: 'responder',
  escalate: 'responder',
  note: 'responder',
  update: 'responder',
  sev: 'responder',
  assign: 'responder',
  silence: 'responder',
  declare: 'responder',
  cancel: 'viewer',
  run: 'responder',
  postmortem: 'responder',
  maintenance: 'admin',
  override: 'admin',
  audit: 'admin',
  notify: 'viewer',
  whoami: 'viewer',
  role: 'responder',
  cover: 'responder',
  swap: 'responder',
  calendar: 'viewer',
};

/** Commands /help lists only in a private chat (their answer is personal). */
export const PRIVATE_COMMANDS: ReadonlySet<string> = new Set(['calendar']);

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

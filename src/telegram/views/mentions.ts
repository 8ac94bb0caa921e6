import type { PersonRef } from '../../domain/notices.js';
import { escapeHtml } from '../html.js';

/** A person in Telegram HTML: a `tg://user` mention when their Telegram id is known, else the name. */
export function mentionHtml(who: PersonRef): string {
  const name = escapeHtml(who.name);
  return who.telegramId !== undefined
    ? `<a href="tg://user?id=${who.telegramId}">${name}</a>`
    : name;
}

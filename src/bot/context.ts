import type { ConversationFlavor } from '@grammyjs/conversations';
import type { Context } from 'grammy';
import type { InlineKeyboardMarkup } from 'grammy/types';
import type { Person } from '../domain/people.js';
import type { Locale } from '../i18n.js';
import type { Logger } from '../logger.js';
import type { Services } from '../services.js';

export type { Person } from '../domain/people.js';

/** opsbot's context flavor: services, the acting person, the chat's language and HTML replies. */
export interface OpsbotFlavor {
  services: Services;
  person: Person;
  locale: Locale;
  log: Logger;
  /** Translate in the chat's language. */
  tr(key: string, vars?: Record<string, string | number>): string;
  /** Reply in HTML (text must be escaped already), in the same forum topic. */
  replyHtml(text: string, keyboard?: InlineKeyboardMarkup): Promise<unknown>;
  /** The incident whose war-room topic this message was written in, if any. */
  topicIncident?: string;
}

/** The context inside a conversation (@grammyjs/conversations): opsbot's flavor, no controls. */
export type InnerContext = Context & OpsbotFlavor;

/** The context of the main middleware tree: opsbot's flavor plus the conversation controls. */
export type BotContext = ConversationFlavor<InnerContext>;

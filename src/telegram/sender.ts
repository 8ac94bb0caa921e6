import { GrammyError, HttpError, type Api } from 'grammy';
import type { InlineKeyboardMarkup } from 'grammy/types';
import type { OutboxKeyboard } from '../domain/outbox.js';
import { parseChatKey } from '../incidents/routing.js';
import type { Metrics } from '../metrics.js';
import { htmlTextLength, trimHtml } from './html.js';

/** Telegram's limit on a photo caption (characters after HTML parsing). */
export const CAPTION_MAX = 1024;

const LINK_PREVIEW_OFF = { is_disabled: true } as const;

/**
 * Telegram refused the image itself (it could not fetch the URL, or it is no usable image): a 400
 * such as "wrong file identifier/HTTP URL specified" or "failed to get HTTP URL content".
 * The card then goes out without it (grafana/grafana#25415).
 */
export function imageRefused(e: unknown): e is GrammyError {
  return e instanceof GrammyError && e.error_code === 400;
}

/** Telegram said 429: the milliseconds it asks us to wait, else undefined. */
export function rateLimitedFor(e: unknown): number | undefined {
  if (!(e instanceof GrammyError) || e.error_code !== 429) return undefined;
  return Number(e.parameters.retry_after ?? 1) * 1000;
}

/** A failure worth retrying: the network, or Telegram's own 5xx. */
export function isTransient(e: unknown): boolean {
  return e instanceof HttpError || (e instanceof GrammyError && e.error_code >= 500);
}

/** A private chat refused the message (the person never started the bot, or blocked it). */
export function isDmRefused(e: unknown): boolean {
  return e instanceof GrammyError && (e.error_code === 403 || e.error_code === 400);
}

/** A caption that fits Telegram's limit (a card that outgrew it loses its last lines). */
function fitCaption(html: string): string {
  return htmlTextLength(html) <= CAPTION_MAX ? html : trimHtml(html, CAPTION_MAX);
}

/** The keyboard telegram/ built, as the Bot API takes it (queued jobs carry it opaque). */
function markup(k: OutboxKeyboard | undefined): InlineKeyboardMarkup | undefined {
  return k as InlineKeyboardMarkup | undefined;
}

/** Where a message goes and how it relates to others. */
export interface SendOptions {
  keyboard?: OutboxKeyboard;
  /** Sent as a reply to this message (still sent when it is gone). */
  replyTo?: number;
  /** The incident's war-room topic, instead of the chat's own thread. */
  topic?: number;
}

/**
 * The Bot API calls of the outbox: send, photo and edit, in HTML, counted in metrics. Chats are
 * chat keys (`<chat id>` or `<chat id>:<thread id>`); calls return message ids.
 */
export function createSender(deps: { api: Api; metrics: Metrics }) {
  const { api, metrics } = deps;

  function target(chat: string, opts: SendOptions) {
    const { chatId, threadId: own } = parseChatKey(chat);
    const threadId = opts.topic ?? own;
    const keyboard = markup(opts.keyboard);
    return {
      chatId,
      extra: {
        ...(threadId ? { message_thread_id: threadId } : {}),
        ...(keyboard ? { reply_markup: keyboard } : {}),
        ...(opts.replyTo
          ? { reply_parameters: { message_id: opts.replyTo, allow_sending_without_reply: true } }
          : {}),
      },
    };
  }

  return {
    async send(chat: string, text: string, opts: SendOptions = {}): Promise<number> {
      const { chatId, extra } = target(chat, opts);
      const msg = await api.sendMessage(chatId, text, {
        parse_mode: 'HTML',
        link_preview_options: LINK_PREVIEW_OFF,
        ...extra,
      });
      metrics.sends.inc({ method: 'sendMessage', result: 'ok' });
      return msg.message_id;
    },

    /** Sends a photo by URL: with an HTML caption and buttons, or bare as a reply. */
    async sendPhoto(
      chat: string,
      photo: string,
      caption: string | undefined,
      opts: SendOptions = {},
    ): Promise<number> {
      const { chatId, extra } = target(chat, opts);
      const msg = await api.sendPhoto(chatId, photo, {
        ...(caption !== undefined ? { caption, parse_mode: 'HTML' as const } : {}),
        ...extra,
      });
      metrics.sends.inc({ method: 'sendPhoto', result: 'ok' });
      return msg.message_id;
    },

    /**
     * Edits a message's text (or, for a photo, its caption, trimmed to fit) and keyboard. True when
     * the message shows it (an edit to the same content counts), false when the message is gone or
     * can no longer be edited.
     */
    async edit(
      chat: string,
      messageId: number,
      text: string,
      keyboard?: OutboxKeyboard,
      caption = false,
    ): Promise<boolean> {
      const { chatId } = parseChatKey(chat);
      const reply_markup = markup(keyboard) ?? { inline_keyboard: [] };
      try {
        if (caption) {
          await api.editMessageCaption(chatId, messageId, {
            caption: fitCaption(text),
            parse_mode: 'HTML',
            reply_markup,
          });
        } else {
          await api.editMessageText(chatId, messageId, text, {
            parse_mode: 'HTML',
            link_preview_options: LINK_PREVIEW_OFF,
            reply_markup,
          });
        }
        metrics.sends.inc({
          method: caption ? 'editMessageCaption' : 'editMessageText',
          result: 'ok',
        });
        return true;
      } catch (e) {
        if (e instanceof GrammyError && e.error_code === 400 && /not modified/i.test(e.description))
          return true;
        if (
          e instanceof GrammyError &&
          e.error_code === 400 &&
          /not found|can't be edited/i.test(e.description)
        )
          return false;
        throw e;
      }
    },
  };
}

export type Sender = ReturnType<typeof createSender>;

import type { ChatConfig, OpsbotConfig, RouteConfig } from '../config.js';
import { mapSeverity, type Severity } from '../domain/severity.js';
import type { Alert } from '../domain/alert.js';
import { matchLabels } from '../matching/re2.js';
import { own } from '../own.js';

/** `chatId` or `chatId:threadId`: how the outbox names a place to post. */
export function chatKeyOf(chat: ChatConfig): string {
  return chat.thread_id ? `${chat.id}:${chat.thread_id}` : String(chat.id);
}

/** Splits a chat key back into chat id and optional forum topic. */
export function parseChatKey(key: string): { chatId: number; threadId?: number } {
  const [c, t] = key.split(':');
  return t ? { chatId: Number(c), threadId: Number(t) } : { chatId: Number(c) };
}

/**
 * Label matchers: `value` equal, `!=value` not equal, `=~re` full RE2 match, `!~re` no match.
 * A missing label is the empty string. See src/matching/re2.ts.
 */
export { matchLabels } from '../matching/re2.js';

export interface Routing {
  route?: RouteConfig;
  severity: Severity;
  chats: string[];
  chatNames: string[];
}

/** First matching route wins; with none, the first chat of the config is the default. */
export function routeAlert(cfg: OpsbotConfig, alert: Alert): Routing {
  const route = cfg.routes.find((r) => matchLabels(r.match, alert.labels));
  const rawSeverity = route?.severity
    ? route.severity
    : route?.severity_from
      ? (alert.labels[route.severity_from] ?? alert.severity)
      : (alert.severity ?? alert.labels.severity);
  const names = route ? [route.chat, ...(route.also ?? [])] : [Object.keys(cfg.chats)[0]!];
  const unique = [...new Set(names)];
  return {
    route,
    severity: mapSeverity(rawSeverity),
    chatNames: unique,
    chats: unique.map((n) => chatKeyOf(own(cfg.chats, n)!)),
  };
}

import type { OpsbotConfig } from '../config.js';
import { SEVERITIES, type Severity } from '../domain/severity.js';
import { chatKeyOf } from './routing.js';

/**
 * The chat (key) among `chats` where a new incident of `severity` gets its own war-room forum topic:
 * the first whose `war_room.topics` is on and whose `min_severity` the incident meets.
 */
export function warRoomChat(
  config: OpsbotConfig,
  chats: readonly string[],
  severity: Severity,
): string | undefined {
  for (const chat of Object.values(config.chats)) {
    const wr = chat.war_room;
    if (!wr?.topics) continue;
    if (SEVERITIES.indexOf(severity) > SEVERITIES.indexOf(wr.min_severity)) continue;
    const key = chatKeyOf(chat);
    if (chats.includes(key)) return key;
  }
  return undefined;
}

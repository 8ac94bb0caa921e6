import { GrammyError, type Api } from 'grammy';
import type { Clock } from '../clock.js';
import type { Locale, Translate } from '../i18n.js';
import type { Incident } from '../domain/incident.js';
import type { EffectPlan, IncidentRepository } from '../store/incidents.js';
import { parseChatKey } from '../incidents/routing.js';
import type { Severity } from '../domain/severity.js';
import type { Logger } from '../logger.js';
import { escapeHtml, trimText } from './html.js';
import type { WarRoomStore } from '../store/warrooms.js';

/** Telegram's limit on a forum topic's name (createForumTopic, editForumTopic). */
export const TOPIC_NAME_MAX = 128;

/** A topic's colour by severity; Telegram allows only these six values for icon_color. */
type TopicColor = 0x6fb9f0 | 0xffd67e | 0xcb86db | 0x8eee98 | 0xff93b2 | 0xfb6f5f;
export const TOPIC_COLORS: Record<Severity, TopicColor> = {
  P0: 0xfb6f5f, // red
  P1: 0xffd67e, // yellow
  P2: 0x6fb9f0, // blue
  P3: 0x8eee98, // green
};

/** `INC-12 · API error rate above 5%` (`✅ ` in front once resolved), within Telegram's 128 characters. */
export function topicName(inc: Pick<Incident, 'id' | 'title'>, resolved = false): string {
  const head = `${resolved ? '✅ ' : ''}${inc.id} · `;
  const title = inc.title.replace(/\s+/g, ' ').trim() || '—';
  const room = TOPIC_NAME_MAX - head.length;
  let t = trimText(title, room);
  // never leave half a surrogate pair where the cut fell
  if (t.length < title.length && /[\uD800-\uDBFF]…$/.test(t)) t = `${t.slice(0, -2)}…`;
  return head + t;
}

/** `https://t.me/c/<internal id>/<thread id>`: a link to a topic of a supergroup (`-100…` ids). */
export function topicLink(chatId: number, threadId: number): string {
  return `https://t.me/c/${String(chatId).replace(/^-100/, '').replace(/^-/, '')}/${threadId}`;
}

function isBadRequest(e: unknown): e is GrammyError {
  return e instanceof GrammyError && (e.error_code === 400 || e.error_code === 403);
}
const notModified = (e: unknown) => isBadRequest(e) && /TOPIC_NOT_MODIFIED/i.test(e.description);

/**
 * War-room topics, driven by the outbox (so every call is durable, paced and retried): the first job
 * about an incident in its war-room chat creates (or, for a re-trigger of the same dedup key, reopens)
 * its topic and records the thread on the incident in one guarded atomic step before anything is
 * posted there; later syncs close and rename it on resolve. One job per chat runs at a time
 * (outbox_claim), so a topic is created once; the one gap is Telegram's own: a crash after Telegram
 * created the topic and before the record could create a second one on retry.
 */
export function createWarRooms(deps: {
  store: WarRoomStore;
  api: Api;
  repo: IncidentRepository;
  clock: Clock;
  t: Translate;
  logger: Logger;
}) {
  const { store, api, repo, clock, t, logger } = deps;

  /** The thread an incident job in `chat` goes to, creating the topic first when it has none yet. */
  async function threadFor(
    chat: string,
    inc: Incident,
    locale: Locale,
  ): Promise<number | undefined> {
    const wr = inc.warRoom;
    if (!wr || wr.chat !== chat || wr.off) return undefined;
    if (wr.thread) return wr.thread;
    // an incident resolved before any of its messages went out gets no topic
    if (inc.state === 'resolved') return undefined;
    return open(chat, inc, locale);
  }

  async function open(chat: string, inc: Incident, locale: Locale): Promise<number | undefined> {
    const { chatId } = parseChatKey(chat);
    const name = topicName(inc);
    let thread: number | undefined;
    let reopened = false;
    // a re-trigger (a new incident of a resolved dedup key) goes back into the closed topic
    const last = await store.lastTopic(chat, inc.dedup);
    if (last) {
      const owner = await store.topicOwner(chatId, last);
      const prev = owner && owner !== inc.id ? await repo.get(owner) : undefined;
      if (prev?.state === 'resolved') {
        try {
          await api.reopenForumTopic(chatId, last);
          thread = last;
        } catch (e) {
          if (notModified(e)) thread = last;
          else if (!isBadRequest(e)) throw e;
          else logger.info({ chat, thread: last, err: e.description }, 'topic not reopened');
        }
        if (thread) {
          await api.editForumTopic(chatId, thread, { name }).catch((e: unknown) => {
            if (!notModified(e) && !isBadRequest(e)) throw e;
          });
          reopened = true;
        }
      }
    }
    if (!thread) {
      try {
        const topic = await api.createForumTopic(chatId, name, {
          icon_color: TOPIC_COLORS[inc.severity],
        });
        thread = topic.message_thread_id;
      } catch (e) {
        if (!isBadRequest(e)) throw e; // 429, 5xx, network: the outbox retries the job
        await fallback(chat, inc, locale, e.description);
        return undefined;
      }
    }
    const now = clock.now();
    const plan: EffectPlan = {
      ...store.openedEffects({ inc: inc.id, chat, chatId, thread, dedup: inc.dedup }),
      timeline: [
        {
          inc: inc.id,
          entry: {
            t: now,
            type: 'war_room',
            actor: 'opsbot',
            text: name,
            data: { thread, reopened },
          },
        },
      ],
      // the one-line pointer stays in General (or the chat's configured thread)
      outbox: [
        {
          chat,
          kind: 'text',
          data: {
            inc: inc.id,
            general: true,
            text: t(locale, reopened ? 'warroom-pointer-reopened' : 'warroom-pointer', {
              id: inc.id,
              severity: inc.severity,
              title: escapeHtml(trimText(inc.title, 200)),
              link: topicLink(chatId, thread),
            }),
          },
        },
      ],
    };
    if ((await repo.apply(plan)) !== 'ok') {
      // recorded meanwhile (cannot happen while one job per chat runs): use the recorded one
      const again = await repo.get(inc.id);
      logger.warn({ inc: inc.id, thread, kept: again?.warRoom?.thread }, 'war-room topic raced');
      return again?.warRoom?.thread;
    }
    await store.keepLastTopic(chat, inc.dedup);
    logger.info({ inc: inc.id, chat, thread, reopened }, 'war-room topic opened');
    return thread;
  }

  /** No right to manage topics, or not a forum: post as before, and say so once in the chat. */
  async function fallback(chat: string, inc: Incident, locale: Locale, reason: string) {
    const first = await store.firstFallback(chat, clock.now());
    logger.warn(
      { inc: inc.id, chat, err: reason },
      'war-room topic unavailable: posting in the chat',
    );
    await repo.apply({
      ...store.offEffects(inc.id),
      timeline: [
        {
          inc: inc.id,
          entry: { t: clock.now(), type: 'war_room_unavailable', actor: 'opsbot', text: reason },
        },
      ],
      outbox: first
        ? [
            {
              chat,
              kind: 'text',
              data: { text: t(locale, 'warroom-unavailable', { reason: escapeHtml(reason) }) },
            },
          ]
        : [],
    });
  }

  /**
   * Brings the topic in line with the incident: closed and renamed `✅ …` once resolved, reopened
   * otherwise. Only the incident that owns the topic acts (a re-trigger may have taken it over).
   */
  async function reconcile(chat: string, inc: Incident): Promise<void> {
    const wr = inc.warRoom;
    if (!wr?.thread || wr.chat !== chat) return;
    const resolved = inc.state === 'resolved';
    if (resolved === wr.closed) return;
    const { chatId } = parseChatKey(chat);
    if ((await store.topicOwner(chatId, wr.thread)) !== inc.id) return;
    const tolerate = (e: unknown) => {
      if (notModified(e)) return;
      if (isBadRequest(e)) {
        logger.warn({ inc: inc.id, thread: wr.thread, err: e.description }, 'topic call refused');
        return;
      }
      throw e;
    };
    if (resolved) await api.closeForumTopic(chatId, wr.thread).catch(tolerate);
    else await api.reopenForumTopic(chatId, wr.thread).catch(tolerate);
    await api.editForumTopic(chatId, wr.thread, { name: topicName(inc, resolved) }).catch(tolerate);
    await store.setClosed(inc.id, resolved);
  }

  return { threadFor, reconcile };
}

export type WarRooms = ReturnType<typeof createWarRooms>;

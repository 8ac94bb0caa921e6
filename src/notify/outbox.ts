import { createHash } from 'node:crypto';
import { GrammyError, HttpError, type Api } from 'grammy';
import type { InlineKeyboardMarkup } from 'grammy/types';
import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import type { OpsbotConfig } from '../config.js';
import type { Locale, Translate } from '../i18n.js';
import type { IncidentRepository } from '../incidents/repository.js';
import { parseChatKey } from '../incidents/routing.js';
import type { Logger } from '../logger.js';
import { createWorkerLoop } from '../loop.js';
import type { Metrics } from '../metrics.js';
import type { Keys } from '../store/keys.js';
import type { Scripts } from '../store/scripts.js';
import { renderChecklist } from './checklist.js';
import { escapeHtml, htmlTextLength, trimHtml } from './html.js';
import { renderDigest, renderIncident, type RenderedMessage } from './render.js';
import { createWarRooms } from './warroom.js';
import type { Notice } from '../domain/notices.js';
import { renderNotice } from '../telegram/views/notices.js';

export interface OutboxJob {
  id: string;
  chat: string;
  kind: 'sync' | 'page' | 'text' | 'edit' | 'digest' | 'digest_sync' | 'checklist' | 'photo';
  data: Record<string, unknown>;
  coalesce: string;
  new: number;
  attempts?: number;
  /** 0 pages and P0/P1 texts, 1 new P0/P1 cards, 2 new P2/P3 cards, 3 the rest (common.lua). */
  lane?: number;
  /** The pacing slot this claim holds (given back when the job sends nothing). */
  slot?: string;
}

type Record3 = [key: string, field: string, value: string];

export interface OutboxDeps {
  redis: Redis;
  keys: Keys;
  scripts: Scripts;
  clock: Clock;
  api: Api;
  repo: IncidentRepository;
  config: OpsbotConfig;
  t: Translate;
  localeOf: (chatId: number) => Promise<Locale>;
  logger: Logger;
  metrics: Metrics;
  /** Lease for a claimed job; a worker that dies gives it back after this long. */
  leaseMs?: number;
}

/** The outbox lanes of a chat, most urgent first (see common.lua). */
export const OUTBOX_LANES = [0, 1, 2, 3] as const;

const LINK_PREVIEW_OFF = { is_disabled: true } as const;

/** Telegram's limit on a photo caption (characters after HTML parsing). */
export const CAPTION_MAX = 1024;

/**
 * Telegram refused the image itself (it could not fetch the URL, or it is no usable image): a 400
 * such as "wrong file identifier/HTTP URL specified" or "failed to get HTTP URL content".
 * The card then goes out without it (grafana/grafana#25415).
 */
function imageRefused(e: unknown): e is GrammyError {
  return e instanceof GrammyError && e.error_code === 400;
}

/** A caption that fits Telegram's limit (a card that outgrew it loses its last lines). */
function fitCaption(html: string): string {
  return htmlTextLength(html) <= CAPTION_MAX ? html : trimHtml(html, CAPTION_MAX);
}

/** What a message shows, as a short hash: an edit to the same signature would change nothing. */
function signature(r: RenderedMessage, extra = ''): string {
  return createHash('sha256')
    .update(`${r.text}\u0000${JSON.stringify(r.keyboard ?? null)}\u0000${extra}`)
    .digest('base64url')
    .slice(0, 22);
}

/**
 * The durable outbox: every Telegram send or edit is a job in Redis, paced per chat and globally
 * (outbox_claim.lua), coalesced per incident, merged into digests in a storm, retried on 429/5xx.
 */
export function createOutbox(deps: OutboxDeps) {
  const { redis, keys, scripts, clock, api, repo, config, t, logger, metrics } = deps;
  const lease = deps.leaseMs ?? 15_000;
  const lim = config.outbox;
  const warRooms = createWarRooms({ redis, keys, api, repo, clock, t, logger });

  async function finish(
    job: OutboxJob,
    outcome: 'done' | 'noop' | 'retry',
    delayMs = 0,
    record?: Record3,
    failure = false,
    record2?: Record3,
    record3?: Record3,
  ) {
    if (outcome === 'noop') metrics.sends.inc({ method: job.kind, result: 'noop' });
    await scripts.run('outbox_finish', [
      keys.prefix,
      clock.now(),
      job.id,
      job.chat,
      outcome,
      Math.ceil(delayMs),
      record?.[0] ?? '',
      record?.[1] ?? '',
      record?.[2] ?? '',
      failure ? 'err' : '',
      job.slot ?? '',
      record2?.[0] ?? '',
      record2?.[1] ?? '',
      record2?.[2] ?? '',
      record3?.[0] ?? '',
      record3?.[1] ?? '',
      record3?.[2] ?? '',
    ]);
  }

  async function send(
    chat: string,
    text: string,
    keyboard?: InlineKeyboardMarkup,
    replyTo?: number,
    /** The incident's war-room topic, instead of the chat's own thread. */
    topic?: number,
  ) {
    const { chatId, threadId: own } = parseChatKey(chat);
    const threadId = topic ?? own;
    const msg = await api.sendMessage(chatId, text, {
      parse_mode: 'HTML',
      link_preview_options: LINK_PREVIEW_OFF,
      ...(threadId ? { message_thread_id: threadId } : {}),
      ...(keyboard ? { reply_markup: keyboard } : {}),
      ...(replyTo
        ? { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } }
        : {}),
    });
    metrics.sends.inc({ method: 'sendMessage', result: 'ok' });
    return msg.message_id;
  }

  /** Sends a photo by URL: with an HTML caption and buttons, or bare as a reply to `replyTo`. */
  async function sendPhoto(
    chat: string,
    photo: string,
    caption?: string,
    keyboard?: InlineKeyboardMarkup,
    replyTo?: number,
    topic?: number,
  ) {
    const { chatId, threadId: own } = parseChatKey(chat);
    const threadId = topic ?? own;
    const msg = await api.sendPhoto(chatId, photo, {
      ...(caption !== undefined ? { caption, parse_mode: 'HTML' as const } : {}),
      ...(threadId ? { message_thread_id: threadId } : {}),
      ...(keyboard ? { reply_markup: keyboard } : {}),
      ...(replyTo
        ? { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } }
        : {}),
    });
    metrics.sends.inc({ method: 'sendPhoto', result: 'ok' });
    return msg.message_id;
  }

  /**
   * A new incident card with its image: the photo with the card as its caption when the card fits
   * 1,024 characters; otherwise the card, and the photo as a reply to it (queued as its own job).
   * An image Telegram cannot fetch leaves the card without it. `kind` says what later edits change.
   */
  async function sendWithImage(
    chat: string,
    inc: { id: string; image: string },
    r: RenderedMessage,
    topic?: number,
  ): Promise<{ mid: number; kind: 'caption' | 'text' }> {
    if (htmlTextLength(r.text) <= CAPTION_MAX) {
      try {
        return {
          mid: await sendPhoto(chat, inc.image, r.text, r.keyboard, undefined, topic),
          kind: 'caption',
        };
      } catch (e) {
        if (!imageRefused(e)) throw e;
        metrics.sends.inc({ method: 'sendPhoto', result: 'image_refused' });
        logger.warn(
          { inc: inc.id, chat, err: e.description },
          'telegram refused the incident image: card sent without it',
        );
      }
      return { mid: await send(chat, r.text, r.keyboard, undefined, topic), kind: 'text' };
    }
    const mid = await send(chat, r.text, r.keyboard, undefined, topic);
    await repo.apply({
      outbox: [
        {
          chat,
          kind: 'photo',
          data: { inc: inc.id, reply_to: mid, ...(topic ? { topic } : {}) },
          coalesce: `photo:${inc.id}`,
        },
      ],
    });
    return { mid, kind: 'text' };
  }

  async function edit(
    chat: string,
    messageId: number,
    text: string,
    keyboard?: InlineKeyboardMarkup,
    caption = false,
  ): Promise<boolean> {
    const { chatId } = parseChatKey(chat);
    try {
      if (caption) {
        await api.editMessageCaption(chatId, messageId, {
          caption: fitCaption(text),
          parse_mode: 'HTML',
          reply_markup: keyboard ?? { inline_keyboard: [] },
        });
      } else {
        await api.editMessageText(chatId, messageId, text, {
          parse_mode: 'HTML',
          link_preview_options: LINK_PREVIEW_OFF,
          reply_markup: keyboard ?? { inline_keyboard: [] },
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
  }

  async function process(job: OutboxJob): Promise<void> {
    const { chatId } = parseChatKey(job.chat);
    const locale = await deps.localeOf(chatId);
    const rc = { t, locale, now: clock.now() };
    switch (job.kind) {
      case 'sync':
      case 'page': {
        const inc = await repo.get(String(job.data.inc));
        if (!inc) return finish(job, 'noop');
        // in a war-room chat the incident's messages go into its own topic (opened on first use)
        const topic = await warRooms.threadFor(job.chat, inc, locale);
        if (job.kind === 'sync') await warRooms.reconcile(job.chat, inc);
        const msgs = await repo.messages(inc.id);
        const existing = msgs[job.chat];
        // acknowledged or resolved while the page waited in the queue: show the state, ring nobody
        const kind = job.kind === 'page' && inc.state !== 'triggered' ? 'sync' : job.kind;
        const r = renderIncident(inc, rc);
        // the signature leaves out the running "started … ago", so only a change of state is an edit
        const sig = signature(
          renderIncident(inc, { ...rc, now: inc.startedAt }),
          String(!!inc.silencedUntil && inc.silencedUntil > rc.now),
        );
        const sigField = `rh:${job.chat}`;
        const sigRecord: Record3 = [keys.incident(inc.id), sigField, sig];
        const header = job.data.person ? 'page-header' : 'page-header-chat';
        const text =
          kind === 'page'
            ? `${t(locale, header, { level: Number(job.data.level ?? 0) + 1 })}\n${r.text}`
            : r.text;
        // what the chat's message is: a photo whose caption is the card, or a text (the default)
        const kindField = `mk:${job.chat}`;
        // a sync edits the message in place; a page always posts anew (an edit rings no phone),
        // as a reply to the earlier message, which later syncs then leave behind
        if (kind === 'sync' && existing) {
          const [sig0, shown] = await redis.hmget(keys.incident(inc.id), sigField, kindField);
          // nothing changed since the message was last rendered: no call, and the slot goes back
          if (sig0 === sig) return finish(job, 'noop');
          if (await edit(job.chat, Number(existing), r.text, r.keyboard, shown === 'caption'))
            return finish(job, 'done', 0, sigRecord);
        }
        if (kind === 'sync' && !existing && job.kind === 'page') return finish(job, 'noop');
        if (kind === 'sync' && !existing && inc.state === 'resolved' && !job.data.force) {
          // resolved before it was ever shown here (e.g. merged into a digest): nothing to update
          return finish(job, 'noop');
        }
        try {
          // a new card with an image goes out as a photo; pages stay texts (replies to the card)
          const { mid, kind: shown } =
            kind === 'sync' && inc.image
              ? await sendWithImage(job.chat, { id: inc.id, image: inc.image }, r, topic)
              : {
                  mid: await send(
                    job.chat,
                    text,
                    r.keyboard,
                    kind === 'page' && existing ? Number(existing) : undefined,
                    topic,
                  ),
                  kind: 'text',
                };
          return finish(
            job,
            'done',
            0,
            [keys.messages(inc.id), job.chat, String(mid)],
            false,
            sigRecord,
            inc.image ? [keys.incident(inc.id), kindField, shown] : undefined,
          );
        } catch (e) {
          if (
            kind === 'page' &&
            job.data.person &&
            e instanceof GrammyError &&
            (e.error_code === 403 || e.error_code === 400)
          ) {
            await pageFallback(job, inc.id, inc.chats[0]);
            return finish(job, 'done');
          }
          throw e;
        }
      }
      case 'text': {
        // a text about an incident (status update, breach notice) goes into its war-room topic
        const inc =
          job.data.inc && !job.data.general ? await repo.get(String(job.data.inc)) : undefined;
        // a notice is rendered here, in the chat's language; older jobs carry their text
        const notice = job.data.notice as Notice | undefined;
        await send(
          job.chat,
          notice ? renderNotice(notice, t, locale) : String(job.data.text),
          job.data.keyboard as InlineKeyboardMarkup | undefined,
          undefined,
          inc ? await warRooms.threadFor(job.chat, inc, locale) : undefined,
        );
        return finish(job, 'done');
      }
      case 'edit': {
        await edit(
          job.chat,
          Number(job.data.message_id),
          String(job.data.text),
          job.data.keyboard as InlineKeyboardMarkup | undefined,
        );
        return finish(job, 'done');
      }
      case 'photo': {
        // the image of a card too long for a caption, as a reply to the card
        const inc = await repo.get(String(job.data.inc));
        if (!inc?.image) return finish(job, 'noop');
        try {
          await sendPhoto(
            job.chat,
            inc.image,
            undefined,
            undefined,
            Number(job.data.reply_to),
            job.data.topic ? Number(job.data.topic) : undefined,
          );
        } catch (e) {
          if (!imageRefused(e)) throw e;
          metrics.sends.inc({ method: 'sendPhoto', result: 'image_refused' });
          logger.warn(
            { inc: inc.id, chat: job.chat, err: e.description },
            'telegram refused the incident image: card left without it',
          );
        }
        return finish(job, 'done');
      }
      case 'checklist': {
        const inc = await repo.get(String(job.data.inc));
        if (!inc) return finish(job, 'done');
        // folded into a storm digest after the checklist was queued, never shown on its own here:
        // the digest's re-render shows it resolved; no message, no pacing slot (ob_push does the same)
        const [mid0, dg] = await Promise.all([
          redis.hget(keys.messages(inc.id), job.chat),
          redis.hget(keys.incident(inc.id), `dg:${job.chat}`),
        ]);
        if (!mid0 && dg) return finish(job, 'noop');
        const state = await redis.hgetall(keys.checklist(inc.id));
        const r = renderChecklist(inc, state, t, locale);
        const topic = await warRooms.threadFor(job.chat, inc, locale);
        const mid = await send(job.chat, r.text, r.keyboard, undefined, topic);
        return finish(job, 'done', 0, [keys.checklist(inc.id), `_msg:${job.chat}`, String(mid)]);
      }
      case 'digest': {
        const incs = await repo.getMany((job.data.incs as string[]) ?? []);
        const r = renderDigest(incs, rc);
        const mid = await send(job.chat, r.text);
        const did = String(job.data.digest ?? '');
        if (!did) return finish(job, 'done');
        return finish(job, 'done', 0, [keys.obDigest(did), 'msg', String(mid)], false, [
          keys.obDigest(did),
          'sig',
          signature(r),
        ]);
      }
      case 'digest_sync': {
        // incidents of a storm digest changed (acknowledged, resolved): re-render the digest once
        const did = String(job.data.digest);
        const [msg, sig0, raw] = await redis.hmget(keys.obDigest(did), 'msg', 'sig', 'incs');
        if (!msg || !raw) return finish(job, 'noop');
        const incs = await repo.getMany(JSON.parse(raw) as string[]);
        const r = renderDigest(incs, rc);
        const sig = signature(r);
        if (sig === sig0) return finish(job, 'noop');
        await edit(job.chat, Number(msg), r.text);
        return finish(job, 'done', 0, [keys.obDigest(did), 'sig', sig]);
      }
    }
  }

  /** A DM page failed (the person never started the bot): mention them in the incident chat instead. */
  async function pageFallback(job: OutboxJob, incId: string, chat: string | undefined) {
    const who = String(job.data.person ?? '?');
    const tgId = Number(job.data.telegram_id ?? job.chat);
    metrics.sends.inc({ method: 'sendMessage', result: 'dm_failed' });
    if (!chat) return;
    const locale = await deps.localeOf(parseChatKey(chat).chatId);
    const text = t(locale, 'page-dm-failed', {
      mention: `<a href="tg://user?id=${tgId}">${escapeHtml(who)}</a>`,
      id: incId,
    });
    await repo.apply({
      outbox: [{ chat, kind: 'text', data: { text } }],
      timeline: [
        { inc: incId, entry: { t: clock.now(), type: 'page_failed', actor: 'opsbot', text: who } },
      ],
    });
  }

  async function claim(): Promise<{ job?: OutboxJob; waitMs: number }> {
    const r = (await scripts.run('outbox_claim', [
      keys.prefix,
      clock.now(),
      lease,
      lim.per_chat_interval,
      lim.group_per_minute,
      lim.global_per_second,
      lim.digest_threshold,
      200,
    ])) as string[];
    if (r[0] === 'job')
      return { job: { ...(JSON.parse(r[1]!) as OutboxJob), slot: r[2] }, waitMs: 0 };
    return { waitMs: Number(r[1]) };
  }

  async function handle(job: OutboxJob): Promise<void> {
    try {
      await process(job);
    } catch (e) {
      if (e instanceof GrammyError && e.error_code === 429) {
        metrics.rateLimited.inc();
        const retry = Number(e.parameters.retry_after ?? 1) * 1000;
        logger.warn({ chat: job.chat, retryMs: retry }, 'telegram rate limit: job re-queued');
        return finish(job, 'retry', retry);
      }
      const transient = e instanceof HttpError || (e instanceof GrammyError && e.error_code >= 500);
      const attempts = (job.attempts ?? 0) + 1;
      if (transient && attempts <= 30) {
        metrics.sends.inc({ method: job.kind, result: 'retry' });
        const delay = Math.min(500 * 2 ** Math.min(attempts, 6), 30_000);
        logger.warn(
          { chat: job.chat, attempts, err: (e as Error).message },
          'telegram send failed: will retry',
        );
        return finish(job, 'retry', delay);
      }
      metrics.sends.inc({ method: job.kind, result: 'dropped' });
      logger.error(
        { chat: job.chat, kind: job.kind, err: (e as Error).message },
        'telegram send failed: dropped',
      );
      await finish(job, 'done');
    }
  }

  /** Sends whatever the limits allow right now; returns how long until more could go out (-1: empty). */
  async function drain(
    maxJobs = Number.POSITIVE_INFINITY,
  ): Promise<{ sent: number; waitMs: number }> {
    let sent = 0;
    while (sent < maxJobs) {
      const { job, waitMs } = await claim();
      if (!job) return { sent, waitMs };
      await handle(job);
      sent++;
    }
    return { sent, waitMs: 0 };
  }

  async function depth(): Promise<number> {
    const chats = await redis.zrange(keys.obReady(), 0, -1);
    if (chats.length === 0) return 0;
    const pipe = redis.pipeline();
    for (const c of chats) for (const lane of OUTBOX_LANES) pipe.llen(keys.obLane(c, lane));
    const res = (await pipe.exec()) ?? [];
    return res.reduce((s, [, n]) => s + Number(n ?? 0), 0);
  }

  const worker = createWorkerLoop(
    'outbox',
    async () => {
      const r = await drain(50);
      if (r.sent > 0 && r.waitMs === 0) return 0;
      return r.waitMs < 0 ? 250 : Math.min(r.waitMs, 250);
    },
    logger,
  );

  return {
    drain,
    depth,
    /** Wakes the background loop (something was queued). */
    notify: worker.notify,
    start: worker.start,
    stop: worker.stop,
  };
}

export type Outbox = ReturnType<typeof createOutbox>;

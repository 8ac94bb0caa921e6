import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { OutboxData, OutboxJob, OutboxOutcome, OutboxRecord } from '../domain/outbox.js';
import type { Locale, Translate } from '../i18n.js';
import type { Incident } from '../domain/incident.js';
import type { IncidentRepository } from '../store/incidents.js';
import { parseChatKey } from '../incidents/routing.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { renderChecklist } from './views/checklist.js';
import { renderNotice } from './views/notices.js';
import { escapeHtml, htmlTextLength } from './html.js';
import { renderDigest, renderIncident, type RenderedMessage } from './views/incident.js';
import type { OutboxStore } from '../store/outbox.js';
import { CAPTION_MAX, imageRefused, isDmRefused, type Sender } from './sender.js';
import type { WarRooms } from './warroom.js';

/** What the dispatcher needs of the outbox's store (a fake in unit tests). */
export type DispatchStore = Pick<
  OutboxStore,
  'finish' | 'cardView' | 'onlyInDigest' | 'checklistState' | 'digest'
>;

export interface DispatchDeps {
  store: DispatchStore;
  sender: Sender;
  repo: Pick<IncidentRepository, 'get' | 'getMany' | 'apply'>;
  warRooms: WarRooms;
  clock: Clock;
  t: Translate;
  localeOf: (chatId: number) => Promise<Locale>;
  logger: Logger;
  metrics: Metrics;
}

type JobOf<K extends OutboxJob['kind']> = Extract<OutboxJob, { kind: K }>;

/** What a message shows, as a short hash: an edit to the same signature would change nothing. */
export function signature(r: RenderedMessage, extra = ''): string {
  return createHash('sha256')
    .update(`${r.text}\u0000${JSON.stringify(r.keyboard ?? null)}\u0000${extra}`)
    .digest('base64url')
    .slice(0, 22);
}

/**
 * Sends one claimed outbox job and settles it: renders what the job is about, makes the Bot API
 * calls and records what was sent. Telegram errors it does not handle itself propagate (the worker
 * retries or drops the job).
 */
export function createDispatcher(deps: DispatchDeps) {
  const { store, sender, repo, warRooms, clock, t, logger, metrics } = deps;

  function finish(job: OutboxJob, outcome: OutboxOutcome, ...records: OutboxRecord[]) {
    if (outcome === 'noop') metrics.sends.inc({ method: job.kind, result: 'noop' });
    return store.finish(job, outcome, {}, ...records);
  }

  /**
   * A new incident card with its image: the photo with the card as its caption when the card fits
   * 1,024 characters; otherwise the card, and the photo as a reply to it (queued as its own job).
   * An image Telegram cannot fetch leaves the card without it.
   */
  async function sendWithImage(
    chat: string,
    inc: { id: string; image: string },
    r: RenderedMessage,
    topic?: number,
  ): Promise<{ mid: number; shape: 'caption' | 'text' }> {
    if (htmlTextLength(r.text) <= CAPTION_MAX) {
      try {
        const mid = await sender.sendPhoto(chat, inc.image, r.text, {
          keyboard: r.keyboard,
          topic,
        });
        return { mid, shape: 'caption' };
      } catch (e) {
        if (!imageRefused(e)) throw e;
        metrics.sends.inc({ method: 'sendPhoto', result: 'image_refused' });
        logger.warn(
          { inc: inc.id, chat, err: e },
          'telegram refused the incident image: card sent without it',
        );
      }
      return {
        mid: await sender.send(chat, r.text, { keyboard: r.keyboard, topic }),
        shape: 'text',
      };
    }
    const mid = await sender.send(chat, r.text, { keyboard: r.keyboard, topic });
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
    return { mid, shape: 'text' };
  }

  /** A DM page failed (the person never started the bot): mention them in the incident chat instead. */
  async function pageFallback(job: JobOf<'page'>, incId: string, chat: string | undefined) {
    const who = job.data.person ?? '?';
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

  /** A sync or a page: the incident's card, edited in place or posted (pages always post). */
  async function card(job: JobOf<'sync'> | JobOf<'page'>, locale: Locale): Promise<void> {
    const data: OutboxData['page'] = job.data;
    // the incident, its messages and what this chat's card last showed: one round trip
    const view = await store.cardView(data.inc, job.chat);
    const inc = view.inc;
    if (!inc) return finish(job, 'noop');
    // in a war-room chat the incident's messages go into its own topic (opened on first use)
    const topic = await warRooms.threadFor(job.chat, inc, locale);
    if (job.kind === 'sync') await warRooms.reconcile(job.chat, inc);
    const existing = view.messages[job.chat];
    // acknowledged or resolved while the page waited in the queue: show the state, ring nobody
    const kind = job.kind === 'page' && inc.state !== 'triggered' ? 'sync' : job.kind;
    const rc = { t, locale, now: clock.now() };
    const r = renderIncident(inc, rc);
    // the signature leaves out the running "started … ago", so only a change of state is an edit
    const sig = signature(
      renderIncident(inc, { ...rc, now: inc.startedAt }),
      String(!!inc.silencedUntil && inc.silencedUntil > rc.now),
    );
    const sigRecord: OutboxRecord = {
      kind: 'card_signature',
      inc: inc.id,
      chat: job.chat,
      signature: sig,
    };
    const header = data.person ? 'page-header' : 'page-header-chat';
    const text =
      kind === 'page'
        ? `${t(locale, header, { level: (data.level ?? 0) + 1 })}\n${r.text}`
        : r.text;
    // a sync edits the message in place; a page always posts anew (an edit rings no phone),
    // as a reply to the earlier message, which later syncs then leave behind
    if (kind === 'sync' && existing) {
      const shown = view.shown;
      // nothing changed since the message was last rendered: no call, and the slot goes back
      if (shown.signature === sig) return finish(job, 'noop');
      const caption = shown.shape === 'caption';
      if (await sender.edit(job.chat, Number(existing), r.text, r.keyboard, caption))
        return finish(job, 'done', sigRecord);
    }
    if (kind === 'sync' && !existing && job.kind === 'page') return finish(job, 'noop');
    if (kind === 'sync' && !existing && inc.state === 'resolved' && !data.force) {
      // resolved before it was ever shown here (e.g. merged into a digest): nothing to update
      return finish(job, 'noop');
    }
    try {
      // a new card with an image goes out as a photo; pages stay texts (replies to the card)
      const { mid, shape } =
        kind === 'sync' && inc.image
          ? await sendWithImage(job.chat, { id: inc.id, image: inc.image }, r, topic)
          : {
              mid: await sender.send(job.chat, text, {
                keyboard: r.keyboard,
                replyTo: kind === 'page' && existing ? Number(existing) : undefined,
                topic,
              }),
              shape: 'text' as const,
            };
      const records: OutboxRecord[] = [
        { kind: 'message', inc: inc.id, chat: job.chat, messageId: mid },
        sigRecord,
      ];
      if (inc.image) records.push({ kind: 'card_shape', inc: inc.id, chat: job.chat, shape });
      return finish(job, 'done', ...records);
    } catch (e) {
      if (job.kind === 'page' && kind === 'page' && data.person && isDmRefused(e)) {
        await pageFallback(job, inc.id, inc.chats[0]);
        return finish(job, 'done');
      }
      throw e;
    }
  }

  async function photo(job: JobOf<'photo'>): Promise<void> {
    // the image of a card too long for a caption, as a reply to the card
    const inc = await repo.get(job.data.inc);
    if (!inc?.image) return finish(job, 'noop');
    try {
      await sender.sendPhoto(job.chat, inc.image, undefined, {
        replyTo: job.data.reply_to,
        topic: job.data.topic || undefined,
      });
    } catch (e) {
      if (!imageRefused(e)) throw e;
      metrics.sends.inc({ method: 'sendPhoto', result: 'image_refused' });
      logger.warn(
        { inc: inc.id, chat: job.chat, err: e },
        'telegram refused the incident image: card left without it',
      );
    }
    return finish(job, 'done');
  }

  async function checklist(job: JobOf<'checklist'>, locale: Locale): Promise<void> {
    const inc: Incident | undefined = await repo.get(job.data.inc);
    if (!inc) return finish(job, 'done');
    // folded into a storm digest after the checklist was queued, never shown on its own here:
    // the digest's re-render shows it resolved; no message, no pacing slot (ob_push does the same)
    if (await store.onlyInDigest(inc.id, job.chat)) return finish(job, 'noop');
    const r = renderChecklist(inc, await store.checklistState(inc.id), t, locale);
    const topic = await warRooms.threadFor(job.chat, inc, locale);
    const mid = await sender.send(job.chat, r.text, { keyboard: r.keyboard, topic });
    return finish(job, 'done', {
      kind: 'checklist_message',
      inc: inc.id,
      chat: job.chat,
      messageId: mid,
    });
  }

  return async function dispatch(job: OutboxJob): Promise<void> {
    const { chatId } = parseChatKey(job.chat);
    const locale = await deps.localeOf(chatId);
    const rc = { t, locale, now: clock.now() };
    switch (job.kind) {
      case 'sync':
      case 'page':
        return card(job, locale);
      case 'text': {
        // a text about an incident (status update, breach notice) goes into its war-room topic
        const inc = job.data.inc && !job.data.general ? await repo.get(job.data.inc) : undefined;
        const d = job.data;
        const text = d.notice ? renderNotice(d.notice, t, locale) : d.text;
        await sender.send(job.chat, text, {
          keyboard: job.data.keyboard,
          topic: inc ? await warRooms.threadFor(job.chat, inc, locale) : undefined,
        });
        return finish(job, 'done');
      }
      case 'edit':
        await sender.edit(job.chat, job.data.message_id, job.data.text, job.data.keyboard);
        return finish(job, 'done');
      case 'photo':
        return photo(job);
      case 'checklist':
        return checklist(job, locale);
      case 'digest': {
        const r = renderDigest(await repo.getMany(job.data.incs ?? []), rc);
        const mid = await sender.send(job.chat, r.text);
        const did = job.data.digest;
        if (!did) return finish(job, 'done');
        return finish(
          job,
          'done',
          { kind: 'digest_message', digest: did, messageId: mid },
          { kind: 'digest_signature', digest: did, signature: signature(r) },
        );
      }
      case 'digest_sync': {
        // incidents of a storm digest changed (acknowledged, resolved): re-render the digest once
        const did = job.data.digest;
        const dg = await store.digest(did);
        if (!dg) return finish(job, 'noop');
        const r = renderDigest(await repo.getMany(dg.incidents), rc);
        const sig = signature(r);
        if (sig === dg.signature) return finish(job, 'noop');
        await sender.edit(job.chat, dg.messageId, r.text);
        return finish(job, 'done', { kind: 'digest_signature', digest: did, signature: sig });
      }
    }
  };
}

export type Dispatch = ReturnType<typeof createDispatcher>;

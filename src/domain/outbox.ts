/**
 * Outbox jobs: every Telegram send or edit opsbot makes, queued durably and sent by the outbox
 * worker. Producers put `OutboxEntry`s into effect plans; the worker claims `OutboxJob`s. Each kind
 * carries its own data, so neither side reads a job back through casts.
 */

/** A keyboard under a message, opaque to the domain: telegram/ builds it and sends it as it is. */
export type OutboxKeyboard = object;

/** What each kind of job carries. */
export interface OutboxData {
  /** Show the incident's card in the chat: edit it in place, or post it when the chat has none. */
  sync: {
    inc: string;
    /** Post the card even when the incident was resolved before the chat ever showed it. */
    force?: boolean;
    /** The escalation level that queued it (the first level shows the card). */
    level?: number;
  };
  /** Page: a new message (phones ring), as a reply to the chat's card; a DM when `person` is set. */
  page: {
    inc: string;
    level?: number;
    force?: boolean;
    /** The paged person's name: the job goes to their private chat. */
    person?: string;
    telegram_id?: number;
  };
  /** A text message (HTML); one about an incident goes into its war-room topic unless `general`. */
  text: { text: string; inc?: string; general?: boolean; keyboard?: OutboxKeyboard };
  /** Replace the text (and keyboard) of a message opsbot sent earlier. */
  edit: { message_id: number; text: string; keyboard?: OutboxKeyboard };
  /** A storm digest of new incidents (made by the claim script, which merges their cards). */
  digest: { incs: string[]; digest?: string };
  /** Incidents of a storm digest changed: re-render the digest once. */
  digest_sync: { digest: string };
  /** The post-incident checklist of a resolved incident. */
  checklist: { inc: string };
  /** The image of a card too long for a photo caption, as a reply to the card. */
  photo: { inc: string; reply_to: number; topic?: number };
}

export type OutboxKind = keyof OutboxData;

/** A job as a producer queues it (apply_effects.lua `outbox[]`). */
export type OutboxEntry = {
  [K in OutboxKind]: {
    chat: string;
    kind: K;
    data: OutboxData[K];
    /** Jobs of one chat with the same coalesce key collapse into the newest. */
    coalesce?: string;
    /** A first card of a new incident (digest and lane rules apply). */
    new?: boolean;
  };
}[OutboxKind];

/** A job as the worker claims it. */
export type OutboxJob = {
  [K in OutboxKind]: {
    id: string;
    chat: string;
    kind: K;
    data: OutboxData[K];
    coalesce: string;
    new: number;
    attempts?: number;
    /** 0 pages and P0/P1 texts, 1 new P0/P1 cards, 2 new P2/P3 cards, 3 the rest. */
    lane?: number;
    /** The pacing slot this claim holds (given back when the job sends nothing). */
    slot?: string;
  };
}[OutboxKind];

/** The outbox lanes of a chat, most urgent first. */
export const OUTBOX_LANES = [0, 1, 2, 3] as const;

/** How a claimed job ended: sent, sent nothing (its pacing slot goes back), or to be tried again. */
export type OutboxOutcome = 'done' | 'noop' | 'retry';

/** What a chat's message of an incident is: a photo whose caption is the card, or a text. */
export type CardShape = 'caption' | 'text';

/** What a finished job records (atomically with settling it). */
export type OutboxRecord =
  /** The chat's message of the incident (later syncs edit it). */
  | { kind: 'message'; inc: string; chat: string; messageId: number }
  /** The signature of what the chat's card shows (an edit to the same signature is skipped). */
  | { kind: 'card_signature'; inc: string; chat: string; signature: string }
  /** Whether the chat's card is a photo caption or a text. */
  | { kind: 'card_shape'; inc: string; chat: string; shape: CardShape }
  /** The message of the incident's post-incident checklist in the chat. */
  | { kind: 'checklist_message'; inc: string; chat: string; messageId: number }
  | { kind: 'digest_message'; digest: string; messageId: number }
  | { kind: 'digest_signature'; digest: string; signature: string };

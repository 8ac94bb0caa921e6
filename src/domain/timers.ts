/**
 * The data of every durable timer, one shape per timer kind. Timers are stored as JSON and handed
 * back to the handler registered for their kind, typed by this union (no casts in handlers).
 */
export type TimerData =
  /** An escalation level of an incident comes due. `inc` may be `%ID%` inside a creation plan. */
  | { kind: 'esc'; inc: string; loop: number; level: number; due: number }
  /** The ack target (`ack_within`) of a triggered incident passes. */
  | { kind: 'breach'; inc: string; due: number }
  /** An acknowledged incident is due a status update (`update_every`). */
  | { kind: 'remind'; inc: string; ackAt: number; due: number }
  /** An acknowledgement times out (`reack_after`): the chain starts again. */
  | { kind: 'reack'; inc: string; ackAt: number; due: number }
  /** One delivery attempt of `webhook:NAME` for a fired level. */
  | {
      kind: 'webhook';
      inc: string;
      loop: number;
      level: number;
      notifier: string;
      attempt: number;
      /** When the first attempt was due (retries stop a window after it). */
      first: number;
      due: number;
      /** Who the level paged, comma-separated (template variables). */
      people: string;
      chat: string;
    }
  /** A heartbeat integration's dead-man switch, armed by the ping at `ping`. */
  | { kind: 'hb'; name: string; ping: number; due: number }
  /** A step of an Alertmanager silence's life (create, expire, watch), retried with backoff. */
  | {
      kind: 'am-silence';
      op: 'create' | 'expire' | 'watch';
      ref: string;
      gen: string;
      attempt: number;
      due: number;
    }
  /** A runbook run request expires unless approved. */
  | { kind: 'appr'; token: string; due: number }
  /** A pending /cover or /swap request expires. */
  | { kind: 'trade'; id: string; due: number };

export type TimerKind = TimerData['kind'];

/** The data of one timer kind. */
export type TimerDataOf<K extends TimerKind> = Extract<TimerData, { kind: K }>;

/** A timer to schedule: its id (idempotent), when it is due, and its data. */
export interface TimerSpec {
  id: string;
  due: number;
  data: TimerData;
}

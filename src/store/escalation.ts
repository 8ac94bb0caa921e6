import type { Redis } from 'ioredis';
import type { Incident } from '../domain/incident.js';
import { json, num } from './incident-codec.js';
import type { Keys } from './keys.js';

type Guard = { key: string; field: string; eq: string };
type FieldSet = { key: string; field: string; value: string | number };
type FieldDel = { key: string; field: string };

/**
 * The escalation fields of one incident's hash, as pieces of an effect plan (guards, sets and
 * deletes that apply_effects runs atomically). The escalation domain speaks steps, loops and timers;
 * only this file knows the fields they are stored in. (Methods on a class, not closures built per
 * call: every fired level makes one, and 10,000 levels can come due at once.)
 */
class EscalationFields {
  constructor(private readonly key: string) {}
  /** The plan applies only while the incident is in `state`. */
  whenState(state: string): Guard {
    return { key: this.key, field: 'state', eq: state };
  }
  /** ... only while `step` (`loop:level`) is the next step to fire. */
  whenStep(step: string): Guard {
    return { key: this.key, field: 'esc_step', eq: step };
  }
  /** ... only while the acknowledgement at `ackAt` stands. */
  whenAckAt(ackAt: number): Guard {
    return { key: this.key, field: 'ack_at', eq: String(ackAt) };
  }
  setState(state: string): FieldSet {
    return { key: this.key, field: 'state', value: state };
  }
  /** The step to fire next, and the timer that fires it. */
  setNext(loop: number, level: number, timer: string): FieldSet[] {
    return [
      { key: this.key, field: 'esc_step', value: `${loop}:${level}` },
      { key: this.key, field: 'esc_timer', value: timer },
    ];
  }
  /** The timer that fires the current step (moved, e.g. after a silence or by /escalate). */
  setTimer(timer: string): FieldSet {
    return { key: this.key, field: 'esc_timer', value: timer };
  }
  setLoopStart(at: number): FieldSet {
    return { key: this.key, field: 'loop_start', value: at };
  }
  /** The level that fired last and who it paged (shown on the card). */
  setFired(loop: number, level: number, paged: string[]): FieldSet[] {
    return [
      { key: this.key, field: 'level', value: level },
      { key: this.key, field: 'loop', value: loop },
      { key: this.key, field: 'paged', value: JSON.stringify(paged) },
    ];
  }
  setBreached(): FieldSet {
    return { key: this.key, field: 'breached', value: 1 };
  }
  /** The chain has nothing more to fire. */
  clearStep(): FieldDel {
    return { key: this.key, field: 'esc_step' };
  }
  clearAck(): FieldDel[] {
    return [
      { key: this.key, field: 'ack_at' },
      { key: this.key, field: 'ack_by' },
    ];
  }
}

/** The escalation fields of incident `inc` (see EscalationFields). */
export function escalationFields(keys: Keys, inc: string): EscalationFields {
  return new EscalationFields(keys.incident(inc));
}

/** The escalation fields a new incident starts with: its first step, that step's timer, the loop start. */
export function creationFields(
  first: { loop: number; level: number; timer: string },
  loopStart: number,
): Record<string, string | number> {
  return {
    esc_step: `${first.loop}:${first.level}`,
    loop_start: loopStart,
    esc_timer: first.timer,
  };
}

/** What firing a level reads of its incident (the rest of the hash is not fetched). */
export type EscalationState = Pick<
  Incident,
  'id' | 'state' | 'severity' | 'labels' | 'silencedUntil' | 'loopStart' | 'createdAt' | 'escStep'
>;
const STATE_FIELDS = [
  'id',
  'state',
  'severity',
  'labels',
  'silenced_until',
  'loop_start',
  'created_at',
  'esc_step',
] as const;

/** The labels field as decodeIncident reads it, and an object whatever was stored. */
function labelsOf(v: string | undefined): Record<string, string> {
  const x = json<unknown>(v, {});
  return x !== null && typeof x === 'object' && !Array.isArray(x)
    ? (x as Record<string, string>)
    : {};
}

/**
 * The escalation state of each incident of `ids` (undefined where there is none), in one round trip:
 * the fields a fired level decides on, as decodeIncident would read them.
 */
export async function readEscalationStates(
  redis: Redis,
  keys: Keys,
  ids: string[],
): Promise<(EscalationState | undefined)[]> {
  if (ids.length === 0) return [];
  const pipe = redis.pipeline();
  for (const id of ids) pipe.hmget(keys.incident(id), ...STATE_FIELDS);
  return ((await pipe.exec()) ?? []).map(([err, r]) => {
    if (err) throw err;
    // HMGET answers null for a missing field; the codec's readers take undefined
    const [id, state, severity, labels, silencedUntil, loopStart, createdAt, escStep] = (
      r as (string | null)[]
    ).map((v) => v ?? undefined);
    if (!id) return undefined;
    return {
      id,
      state: (state ?? 'triggered') as Incident['state'],
      severity: (severity ?? 'P3') as Incident['severity'],
      labels: labelsOf(labels),
      silencedUntil: num(silencedUntil),
      loopStart: num(loopStart),
      createdAt: num(createdAt) ?? 0,
      escStep: escStep || undefined,
    };
  });
}

import type { Update } from 'grammy/types';
import type { Incident } from '../domain/incident.js';
import type { IncidentRepository } from '../store/incidents.js';
import { unpack } from '../telegram/callback-data.js';

/** Incident buttons whose handler starts by reading the incident (details and menus read their own). */
const READING = new Set(['ack', 'unack', 'res']);

/**
 * Reads ahead for incident buttons: the incident a press names is read while its update is being
 * claimed, both commands on the wire together, so the press pays one Redis round trip before its
 * state change instead of two. The read is handed once, to that update's handler only; an action
 * built on it is still guarded by the incident's state in its atomic step, so a change in between
 * makes it read again and retry, as with any other read.
 */
export function createPressReads(repo: Pick<IncidentRepository, 'get'>) {
  const reads = new WeakMap<Update, { id: string; inc: Promise<Incident | undefined> }>();
  return {
    /** Starts the read an update's handler will want, if any. */
    start(u: Update): void {
      const d = unpack('inc', u.callback_query?.data);
      if (!d || !READING.has(d.action)) return;
      const id = `INC-${d.seq}`;
      // a failed read is the handler's to redo: it reads again as if nothing was read ahead
      reads.set(u, { id, inc: repo.get(id).catch(() => undefined) });
    },
    /** The incident read ahead for `u`, if it was `id`; once (a second call gets undefined). */
    take(u: Update, id: string): Promise<Incident | undefined> | undefined {
      const r = reads.get(u);
      reads.delete(u);
      return r?.id === id ? r.inc : undefined;
    },
  };
}

export type PressReads = ReturnType<typeof createPressReads>;

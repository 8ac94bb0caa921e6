import { senderDedup } from '../domain/dedup.js';
import type { AlertLink } from '../domain/alert.js';
import { INCIDENT_ROLES, type Incident, type IncidentState } from '../domain/incident.js';
import type { Severity } from '../domain/severity.js';

/** A stored number field; undefined when absent, empty or not a number. */
export function num(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** A stored JSON field; `fallback` when absent or not JSON. */
export function json<T>(v: string | undefined, fallback: T): T {
  if (!v) return fallback;
  try {
    return JSON.parse(v) as T;
  } catch {
    return fallback;
  }
}

/** A JSON array field; Lua's cjson writes an empty array as `{}`, read back as []. */
function list<T>(v: string | undefined): T[] {
  const x = json<unknown>(v, []);
  return Array.isArray(x) ? (x as T[]) : [];
}

/** Decodes the Redis hash of an incident; undefined when it does not exist. */
export function decodeIncident(h: Record<string, string>): Incident | undefined {
  if (!h.id) return undefined;
  return {
    id: h.id,
    seq: num(h.seq) ?? 0,
    state: (h.state as IncidentState) ?? 'triggered',
    severity: (h.severity as Severity) ?? 'P3',
    title: h.title ?? '',
    description: h.description ?? '',
    source: h.source ?? '',
    integration: h.integration ?? '',
    dedup: senderDedup(h.integration ?? '', h.dedup ?? ''),
    chats: list<string>(h.chats),
    labels: json<Record<string, string>>(h.labels, {}),
    links: list<AlertLink>(h.links),
    createdAt: num(h.created_at) ?? 0,
    updatedAt: num(h.updated_at) ?? 0,
    startedAt: num(h.started_at) ?? num(h.created_at) ?? 0,
    ackAt: num(h.ack_at),
    ackBy: h.ack_by || undefined,
    resolvedAt: num(h.resolved_at),
    resolvedBy: h.resolved_by || undefined,
    assignee: h.assignee || undefined,
    alertCount: num(h.alert_count) ?? 0,
    firingCount: num(h.firing_count) ?? 0,
    level: num(h.level) ?? 0,
    loop: num(h.loop) ?? 0,
    paged: list<string>(h.paged),
    silenced: h.silenced === '1',
    silencedUntil: num(h.silenced_until),
    breached: h.breached === '1',
    lastUpdateAt: num(h.last_update_at),
    escStep: h.esc_step || undefined,
    escTimer: h.esc_timer || undefined,
    loopStart: num(h.loop_start),
    image: h.image || undefined,
    warRoom: h.wr_chat
      ? {
          chat: h.wr_chat,
          thread: num(h.wr_thread),
          closed: h.wr_closed === '1',
          off: h.wr_off === '1',
        }
      : undefined,
    roles: Object.fromEntries(
      INCIDENT_ROLES.filter((r) => h[`role_${r}`]).map((r) => [r, h[`role_${r}`]!]),
    ),
  };
}

import { senderDedup } from '../intake/dedup.js';
import type { AlertLink, Severity } from '../intake/types.js';

export type IncidentState = 'triggered' | 'acknowledged' | 'resolved';

/** An incident as stored in Redis (hash `inc:{INC-n}`), decoded. */
export interface Incident {
  id: string;
  seq: number;
  state: IncidentState;
  severity: Severity;
  title: string;
  description: string;
  source: string;
  integration: string;
  /** The sender's own dedup key; Redis keys it per integration as `<integration>/<dedup>`. */
  dedup: string;
  /** Chat keys (`chatId` or `chatId:threadId`) the route sent it to. */
  chats: string[];
  labels: Record<string, string>;
  links: AlertLink[];
  createdAt: number;
  updatedAt: number;
  startedAt: number;
  ackAt?: number;
  ackBy?: string;
  resolvedAt?: number;
  resolvedBy?: string;
  assignee?: string;
  alertCount: number;
  firingCount: number;
  /** Escalation level last notified (0-based) and loop of the chain. */
  level: number;
  loop: number;
  /** Who the last escalation level paged, for the message. */
  paged: string[];
  /** True when created while silenced or in maintenance: recorded, not posted. */
  silenced: boolean;
  silencedUntil?: number;
  breached: boolean;
  lastUpdateAt?: number;
  /** `loop:level` the next escalation timer must carry to fire. */
  escStep?: string;
  escTimer?: string;
  /** When the current escalation loop started (level delays count from it). */
  loopStart?: number;
  /** An http(s) image of the first alert (Grafana's rendered panel): posted with the card. */
  image?: string;
  /** War-room forum topic: the chat that wants one, its thread once created, closed, or unavailable. */
  warRoom?: { chat: string; thread?: number; closed: boolean; off: boolean };
  /** Incident roles (/role; the first acknowledger of a P0/P1 becomes commander). */
  roles?: Partial<Record<IncidentRole, string>>;
}

/** The roles of an incident's response, in the order they are shown. */
export const INCIDENT_ROLES = ['commander', 'comms', 'scribe'] as const;
export type IncidentRole = (typeof INCIDENT_ROLES)[number];

export interface TimelineEntry {
  t: number;
  type: string;
  actor: string;
  text?: string;
  data?: Record<string, unknown>;
}

function num(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function json<T>(v: string | undefined, fallback: T): T {
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

/** `INC-12` / `inc-12` / `12` → `INC-12`; undefined when not an incident id. */
export function normalizeIncidentId(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const m = /^(?:INC-)?(\d{1,9})$/i.exec(text.trim());
  return m ? `INC-${Number(m[1])}` : undefined;
}

import type { AlertLink } from './alert.js';
import type { Severity } from './severity.js';

export type IncidentState = 'triggered' | 'acknowledged' | 'resolved';

/** An incident: what broke, its state, who is on it and how far it has escalated. */
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

/**
 * The name of the alert behind an incident, as its sender calls it (what an on-call person searches
 * by): Alertmanager's `alertname` (Grafana sets it to the rule name), the Events v2 `source` or
 * `class`, an Opsgenie alert's alias; undefined when the sender gave none.
 */
export function alertName(inc: Pick<Incident, 'source' | 'labels' | 'dedup'>): string | undefined {
  const l = inc.labels;
  if (inc.source === 'events-v2') return l.source || l.class || undefined;
  if (l.alertname) return l.alertname;
  // an Opsgenie alias is the dedup key after `og:` (`og:msg:<hash>` when the sender gave none)
  if (inc.source === 'opsgenie' && inc.dedup.startsWith('og:') && !inc.dedup.startsWith('og:msg:'))
    return inc.dedup.slice(3) || undefined;
  return undefined;
}

/** `INC-12` / `inc-12` / `12` → `INC-12`; undefined when not an incident id. */
export function normalizeIncidentId(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const m = /^(?:INC-)?(\d{1,9})$/i.exec(text.trim());
  return m ? `INC-${Number(m[1])}` : undefined;
}

/**
 * `opsbot routes test label=value ...`: where an alert with these labels would go, like
 * `amtool config routes test`: chat and topic, route, severity, policy with who each level pages
 * now, war room, and (with Redis) the silence or maintenance window that would hold it back.
 */
import type { ChatConfig, OpsbotConfig } from '../config.js';
import { formatDuration } from '../duration.js';
import { onCallAt, type Override } from '../escalation/schedule.js';
import { routeAlert } from '../incidents/routing.js';
import type { Suppression } from '../incidents/silences.js';
import { SEVERITIES, type Severity } from '../domain/severity.js';
import type { Alert } from '../domain/alert.js';
import { formatMatchers } from './check.js';
import { isoMinute } from './common.js';

export interface RouteTestInput {
  labels: Record<string, string>;
  /** The alert's own severity field (as a sender would set it), before routing maps it. */
  severity?: string;
  now: number;
  /** Runtime overrides per schedule (from Redis), if read. */
  overrides?: Record<string, Override[]>;
  /** Active suppressions matching the labels (from Redis), if read; undefined: not checked. */
  suppressedBy?: { silence?: Suppression; maintenance?: Suppression };
}

function chatLine(config: OpsbotConfig, name: string): string {
  const c = config.chats[name];
  if (!c) return name;
  return `${name} (chat ${c.id}${c.thread_id ? `, topic ${c.thread_id}` : ''})`;
}

/** `war_room: { topics, min_severity }` of a chat, read defensively (older configs lack it). */
function warRoomOf(chat: ChatConfig | undefined): { topics: boolean; min?: Severity } | undefined {
  const wr = (chat as { war_room?: unknown } | undefined)?.war_room;
  if (!wr || typeof wr !== 'object') return undefined;
  const { topics, min_severity } = wr as { topics?: unknown; min_severity?: unknown };
  const min = SEVERITIES.includes(min_severity as Severity)
    ? (min_severity as Severity)
    : undefined;
  return { topics: topics === true, ...(min ? { min } : {}) };
}

function suppressionLine(kind: string, s: Suppression): string {
  const reason = s.reason ? `, "${s.reason}"` : '';
  return `${kind} ${s.id} (${formatMatchers(s.matchers)}) by ${s.by} until ${isoMinute(s.until)}${reason}`;
}

/** The lines `opsbot routes test` prints. */
export function routeTest(config: OpsbotConfig, input: RouteTestInput): string[] {
  const { labels, now } = input;
  const alert = { labels, severity: input.severity } as Pick<Alert, 'labels' | 'severity'>;
  const r = routeAlert(config, alert as Alert);
  const index = r.route ? config.routes.indexOf(r.route) : -1;
  const lines: string[] = [];
  lines.push(`labels:   ${formatMatchers(labels).replace('(every alert)', '(none)')}`);
  lines.push(
    index >= 0
      ? `route:    routes[${index}] ${formatMatchers(r.route!.match)}`
      : `route:    none matches; the first chat is the default`,
  );
  const [first, ...also] = r.chatNames;
  const firstChat = config.chats[first!];
  lines.push(`chat:     ${chatLine(config, first!)}`);
  lines.push(`topic:    ${firstChat?.thread_id ? `thread_id ${firstChat.thread_id}` : 'none'}`);
  if (also.length) lines.push(`also:     ${also.map((n) => chatLine(config, n)).join(', ')}`);

  const why = r.route?.severity
    ? `set by routes[${index}]`
    : r.route?.severity_from
      ? `from label ${r.route.severity_from}=${labels[r.route.severity_from] ?? '(unset)'}`
      : input.severity !== undefined
        ? `from the alert's severity "${input.severity}"`
        : labels.severity !== undefined
          ? `from label severity=${labels.severity}`
          : 'no severity given';
  const sev = config.severities[r.severity];
  const ack = sev ? `; acknowledge within ${formatDuration(sev.ack_within)}` : '';
  lines.push(`severity: ${r.severity} (${why})${ack}`);

  const policyName = sev?.policy;
  const policy = policyName ? config.escalation_policies[policyName] : undefined;
  if (!policy) {
    lines.push(`policy:   none (nobody is paged; the incident is posted only)`);
  } else {
    lines.push(`policy:   ${policyName}${policy.repeat ? ` (repeats ${policy.repeat}×)` : ''}`);
    policy.levels.forEach((l, i) => {
      const who = l.notify.map((t) => {
        const [kind, ref] = t.split(':') as [string, string];
        if (kind === 'schedule') {
          const s = config.schedules[ref];
          const cur = s && onCallAt(s, now + l.after, input.overrides?.[ref] ?? []);
          return `${t} → ${cur ? `${cur.person}${cur.override ? ' (override)' : ''}` : 'nobody on call'}`;
        }
        if (kind === 'chat') return `${t} → posts in ${chatLine(config, ref)}`;
        return `${t} → ${ref}`;
      });
      lines.push(
        `  level ${i} after ${l.after ? formatDuration(l.after) : '0s'}: ${who.join('; ')}`,
      );
    });
  }

  const warRooms = r.chatNames
    .map((n) => ({ n, wr: warRoomOf(config.chats[n]) }))
    .filter((x) => x.wr?.topics);
  for (const { n, wr } of warRooms) {
    const min = wr!.min ?? 'P3';
    const applies = SEVERITIES.indexOf(r.severity) <= SEVERITIES.indexOf(min);
    lines.push(
      `war room: ${n}: ${applies ? 'yes' : 'no'} (topics for ${min} and above; this alert is ${r.severity})`,
    );
  }

  if (input.suppressedBy) {
    const { silence, maintenance } = input.suppressedBy;
    if (maintenance) lines.push(`held back: ${suppressionLine('maintenance', maintenance)}`);
    if (silence) lines.push(`held back: ${suppressionLine('silence', silence)}`);
    if (!silence && !maintenance) lines.push('held back: no active silence or maintenance matches');
  }
  return lines;
}

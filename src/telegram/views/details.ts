import { formatDuration } from '../../duration.js';
import type { Locale, Translate } from '../../i18n.js';
import type { Incident, TimelineEntry } from '../../domain/incident.js';
import { escapeHtml, trimHtml, trimText } from '../html.js';
import { formatTime } from '../../timezone.js';
import { rolesLine, SEVERITY_EMOJI } from './incident.js';

/** Details of an incident with its timeline (newest last), for /incident and the Details button. */
export function renderDetails(
  inc: Incident,
  timeline: TimelineEntry[],
  t: Translate,
  locale: Locale,
): string {
  const lines = [
    `${SEVERITY_EMOJI[inc.severity]} <b>${inc.id}</b> · ${inc.severity} · ${escapeHtml(t(locale, `state-${inc.state}`))}`,
    `<b>${escapeHtml(trimText(inc.title, 300))}</b>`,
    t(locale, 'details-opened', { at: formatTime(inc.createdAt) }),
  ];
  if (inc.ackAt)
    lines.push(t(locale, 'details-tta', { d: formatDuration(inc.ackAt - inc.createdAt) }));
  if (inc.resolvedAt)
    lines.push(t(locale, 'details-ttr', { d: formatDuration(inc.resolvedAt - inc.createdAt) }));
  const roles = rolesLine(inc, { t, locale });
  if (roles) lines.push(roles);
  lines.push('', t(locale, 'details-timeline'));
  for (const e of timeline.slice(-25)) {
    lines.push(
      `<code>${new Date(e.t).toISOString().slice(11, 19)}</code> ${escapeHtml(e.type)} · ${escapeHtml(e.actor)}${
        e.text ? ` — ${escapeHtml(trimText(e.text, 200))}` : ''
      }`,
    );
  }
  return trimHtml(lines.join('\n'));
}

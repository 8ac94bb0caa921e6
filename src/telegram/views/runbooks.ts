/** Runbook views: lists, descriptions, run requests and their progress, and their buttons. */
import type { InlineKeyboardMarkup } from 'grammy/types';
import { encodeCallback } from '../callback-data.js';
import { formatDuration } from '../../duration.js';
import type { Locale, Translate } from '../../i18n.js';
import { escapeHtml, trimHtml, trimText } from '../html.js';
import { formatTime } from '../../timezone.js';
import type { RunResult, StepResult } from '../../runbooks/executor.js';
import type { RunbookMessages, RunShown } from '../../runbooks/messages.js';
import { describeAllowed } from '../../runbooks/params.js';
import type { Runbook } from '../../runbooks/model.js';

/** Translation in one chat's language. */
export type Tr = (key: string, vars?: Record<string, string | number>) => string;

const STEP_ICON: Record<string, string> = {
  pending: '▫️',
  running: '▶️',
  ok: '✅',
  failed: '❌',
  timeout: '⏱',
  skipped: '⏭',
  cancelled: '🚫',
};

/** The request/progress message of a run. */
export function renderRun(
  tr: Tr,
  rb: Runbook,
  a: RunShown,
  steps?: StepResult[],
  result?: RunResult,
): string {
  const lines = [
    tr('run-title', { id: escapeHtml(rb.id), title: escapeHtml(rb.title) }),
    tr('run-requested', { who: escapeHtml(a.requester) }) + (a.incident ? ` · ${a.incident}` : ''),
  ];
  const params = Object.entries(a.params);
  if (params.length)
    lines.push(
      `${tr('run-params')} ${params.map(([k, v]) => `${escapeHtml(k)}=<code>${escapeHtml(v)}</code>`).join(' ')}`,
    );
  if (rb.approval.required) {
    const who = a.approvals.map((x) => escapeHtml(x.name)).join(', ');
    lines.push(tr('run-approvals', { have: a.approvals.length, need: a.needed, who: who || '—' }));
  }
  switch (a.state) {
    case 'pending':
      lines.push(tr('run-pending', { until: formatTime(a.expiresAt) }));
      break;
    case 'rejected':
      lines.push(tr('run-rejected', { who: escapeHtml(a.decidedBy ?? '?') }));
      break;
    case 'expired':
      lines.push(tr('run-expired'));
      break;
    default:
      break;
  }
  const list =
    steps ?? rb.steps.map((s) => ({ name: s.name, status: 'pending', output: '' }) as StepResult);
  if (a.state !== 'rejected' && a.state !== 'expired') {
    for (const s of list) {
      const dur = s.durationMs !== undefined ? ` (${formatDuration(s.durationMs)})` : '';
      lines.push(`${STEP_ICON[s.status] ?? '▫️'} ${escapeHtml(s.name)}${dur}`);
      if (s.output && s.status !== 'pending') {
        const tail = s.output.split('\n').slice(-4).join('\n');
        lines.push(`<pre>${escapeHtml(trimText(tail, 500))}</pre>`);
      }
    }
  }
  if (result)
    lines.push(tr(`run-result-${result.status}`, { duration: formatDuration(result.durationMs) }));
  return trimHtml(lines.join('\n'));
}

/** Approve and Reject under a request. */
export function voteKeyboard(tr: Tr, token: string): InlineKeyboardMarkup {
  return {
    inline_keyboard: [
      [
        {
          text: tr('btn-approve'),
          callback_data: encodeCallback({ kind: 'approval', vote: 'y', token }),
        },
        {
          text: tr('btn-reject'),
          callback_data: encodeCallback({ kind: 'approval', vote: 'n', token }),
        },
      ],
    ],
  };
}

/** The Details button of a finished run. */
export function detailsKeyboard(tr: Tr, runId: string): InlineKeyboardMarkup {
  return {
    inline_keyboard: [
      [
        {
          text: tr('btn-details'),
          callback_data: encodeCallback({ kind: 'run-details', run: runId }),
        },
      ],
    ],
  };
}

/** The runbook service's messages, translated with `t` in each chat's language. */
export function createRunbookMessages(t: Translate): RunbookMessages {
  const bind =
    (locale: Locale): Tr =>
    (key, vars) =>
      t(locale, key, vars);
  return {
    run: (rb, a, locale, steps, result) => renderRun(bind(locale), rb, a, steps, result),
    voteKeyboard: (token, locale) => voteKeyboard(bind(locale), token),
    detailsKeyboard: (runId, locale) => detailsKeyboard(bind(locale), runId),
    locked: (rb, a, lock, holder, locale) =>
      `${renderRun(bind(locale), rb, { ...a, state: 'done' })}\n${t(locale, 'run-locked', { lock: escapeHtml(lock), who: escapeHtml(holder) })}`,
    refusedTampered: (rb, locale) => t(locale, 'run-refused-tampered', { id: escapeHtml(rb.id) }),
    refusedRole: (rb, a, locale) =>
      `${renderRun(bind(locale), rb, { ...a, state: 'done' })}\n${t(locale, 'run-refused-role', { who: escapeHtml(a.requester), role: t(locale, `role-${rb.role}`) })}`,
    interrupted: (runbookId, locale) => t(locale, 'run-interrupted', { id: escapeHtml(runbookId) }),
  };
}

/** `/runbook ID` and the runbook buttons: what it does, who may run it, its params and steps. */
export function describeRunbook(tr: Tr, rb: Runbook): string {
  const lines = [
    `🛠 <b>${escapeHtml(rb.id)}</b> — ${escapeHtml(rb.title)}`,
    escapeHtml(rb.description),
    tr('runbook-kind', { kind: rb.kind, role: tr(`role-${rb.role}`) }),
    rb.approval.required
      ? tr('runbook-approval', { n: rb.approval.approvers, role: tr(`role-${rb.approveRole}`) })
      : tr('runbook-no-approval'),
  ];
  if (rb.params.length) {
    lines.push(tr('runbook-params'));
    for (const p of rb.params)
      lines.push(
        `• <code>${escapeHtml(p.name)}</code>: ${escapeHtml(describeAllowed(p))}${p.default !== undefined ? ` (${tr('default')} <code>${escapeHtml(p.default)}</code>)` : ''}${p.required ? ` ${tr('required')}` : ''}`,
      );
  }
  lines.push(tr('runbook-steps'));
  rb.steps.forEach((st, i) =>
    lines.push(
      `${i + 1}. ${escapeHtml(st.name)}: <code>${escapeHtml(trimText(st.run.join(' '), 200))}</code>`,
    ),
  );
  lines.push(
    '',
    `<code>/run ${escapeHtml(rb.id)}${rb.params
      .filter((p) => p.required)
      .map((p) => ` ${p.name}=…`)
      .join('')}</code>`,
  );
  return trimHtml(lines.join('\n'));
}

/**
 * `/runbooks`: the runbooks a person may request (`mine`), or for viewers every runbook to read,
 * with a button per runbook (at most 30).
 */
export function runbookList(
  tr: Tr,
  all: Runbook[],
  mine: Runbook[],
): { text: string; keyboard: InlineKeyboardMarkup } {
  const shown = mine.length ? mine : all;
  const lines = shown.map(
    (r) =>
      `${r.kind === 'diagnostic' ? '🔎' : '🛠'} <code>${escapeHtml(r.id)}</code> — ${escapeHtml(r.title)}${r.approval.required ? ` 🔐${r.approval.approvers > 1 ? '×' + r.approval.approvers : ''}` : ''}`,
  );
  const keyboard = {
    inline_keyboard: shown
      .slice(0, 30)
      .reduce<{ text: string; callback_data: string }[][]>((rows, r, i) => {
        const b = {
          text: r.id,
          callback_data: encodeCallback({ kind: 'runbook-show', runbook: r.id }),
        };
        if (i % 2 === 0) rows.push([b]);
        else rows[rows.length - 1]!.push(b);
        return rows;
      }, []),
  };
  const head = mine.length
    ? tr('runbooks-title', { count: mine.length })
    : tr('runbooks-title-viewer', { count: all.length });
  return { text: trimHtml(`${head}\n${lines.join('\n')}`), keyboard };
}

/** The runbooks offered for an incident (its Runbooks button), one button each (at most 10). */
export function runbookOffers(
  tr: Tr,
  inc: { id: string; seq: number },
  fits: Runbook[],
): { text: string; keyboard: InlineKeyboardMarkup } {
  return {
    text: tr('runbooks-for', { id: inc.id }),
    keyboard: {
      inline_keyboard: fits.slice(0, 10).map((r) => [
        {
          text: `${r.kind === 'diagnostic' ? '🔎' : '🛠'} ${r.title}`.slice(0, 60),
          callback_data: encodeCallback({ kind: 'runbook-offer', runbook: r.id, seq: inc.seq }),
        },
      ]),
    },
  };
}

/** An unknown runbook id, with the ids there are. */
export function unknownRunbook(tr: Tr, id: string, ids: Iterable<string>): string {
  return tr('runbook-unknown', { id: escapeHtml(trimText(id, 64)), ids: [...ids].join(', ') });
}

/** A request whose params failed validation, one line per problem. */
export function runInvalid(
  tr: Tr,
  rb: Runbook,
  issues: readonly { path: string; message: string }[],
): string {
  const list = issues
    .map((i) => `• <code>${escapeHtml(i.path)}</code>: ${escapeHtml(i.message)}`)
    .join('\n');
  return `${tr('run-invalid', { id: escapeHtml(rb.id) })}\n${list}`;
}

/** `/run` text that could not be split into arguments. */
export function runUsage(tr: Tr, problem: string): string {
  return tr('run-usage') + `\n${escapeHtml(problem)}`;
}

/** A `/run` argument that is neither `name=value` nor an incident id. */
export function runBadToken(tr: Tr, token: string): string {
  return tr('run-bad-token', { token: escapeHtml(trimText(token, 64)) });
}

/** A run's full output (the Details button): its last 3,500 characters. */
export function runOutput(tr: Tr, runbookId: string, output: string): string {
  const tail = output.length > 3500 ? `…${output.slice(-3500)}` : output;
  return `${tr('run-output', { id: escapeHtml(runbookId) })}\n<pre>${escapeHtml(tail || '—')}</pre>`;
}

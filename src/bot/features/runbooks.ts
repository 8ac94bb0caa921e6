import { Composer } from 'grammy';
import { roleAtLeast } from '../../config.js';
import { ValidationError } from '../../errors.js';
import { normalizeIncidentId } from '../../incidents/model.js';
import { parseChatKey } from '../../incidents/routing.js';
import { escapeHtml, trimHtml, trimText } from '../../notify/html.js';
import { describeAllowed, tokenizeArgs } from '../../runbooks/params.js';
import type { Runbook } from '../../runbooks/schema.js';
import type { Services } from '../../services.js';
import { decodeCallback, encodeCallback } from '../callback-data.js';
import type { BotContext } from '../context.js';
import { command } from '../commands.js';
import { requireRole, stripTags } from '../roles.js';

/** /runbooks, /runbook, /run, the Runbooks button of incidents, and approval buttons. */
export function runbooksFeature(s: Services) {
  const c = new Composer<BotContext>();
  const rbs = s.runbooks;

  const unknownRunbook = (ctx: BotContext, id: string) =>
    ctx.replyHtml(
      ctx.tr('runbook-unknown', {
        id: escapeHtml(trimText(id, 64)),
        ids: [...rbs.runbooks.keys()].join(', '),
      }),
    );

  function describe(ctx: BotContext, rb: Runbook): string {
    const lines = [
      `🛠 <b>${escapeHtml(rb.id)}</b> — ${escapeHtml(rb.title)}`,
      escapeHtml(rb.description),
      ctx.tr('runbook-kind', { kind: rb.kind, role: ctx.tr(`role-${rb.role}`) }),
      rb.approval.required
        ? ctx.tr('runbook-approval', {
            n: rb.approval.approvers,
            role: ctx.tr(`role-${rb.approveRole}`),
          })
        : ctx.tr('runbook-no-approval'),
    ];
    if (rb.params.length) {
      lines.push(ctx.tr('runbook-params'));
      for (const p of rb.params)
        lines.push(
          `• <code>${escapeHtml(p.name)}</code>: ${escapeHtml(describeAllowed(p))}${p.default !== undefined ? ` (${ctx.tr('default')} <code>${escapeHtml(p.default)}</code>)` : ''}${p.required ? ` ${ctx.tr('required')}` : ''}`,
        );
    }
    lines.push(ctx.tr('runbook-steps'));
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

  command(c, 'runbooks', async (ctx) => {
    // viewers see every runbook (to read); everyone else the ones their role may request
    const list = rbs.visibleTo('admin');
    const mine = ctx.person.role === 'viewer' ? [] : rbs.visibleTo(ctx.person.role);
    if (list.length === 0) return void (await ctx.replyHtml(ctx.tr('runbooks-none')));
    const lines = (mine.length ? mine : list).map(
      (r) =>
        `${r.kind === 'diagnostic' ? '🔎' : '🛠'} <code>${escapeHtml(r.id)}</code> — ${escapeHtml(r.title)}${r.approval.required ? ` 🔐${r.approval.approvers > 1 ? '×' + r.approval.approvers : ''}` : ''}`,
    );
    const keyboard = {
      inline_keyboard: (mine.length ? mine : list)
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
      ? ctx.tr('runbooks-title', { count: mine.length })
      : ctx.tr('runbooks-title-viewer', { count: list.length });
    await ctx.replyHtml(trimHtml(`${head}\n${lines.join('\n')}`), keyboard);
  });

  command(c, 'runbook', async (ctx) => {
    const id = String(ctx.match ?? '').trim();
    const rb = rbs.runbooks.get(id);
    if (!rb) return void (await unknownRunbook(ctx, id));
    await ctx.replyHtml(describe(ctx, rb));
  });

  c.callbackQuery(/^rs:/, async (ctx) => {
    const d = decodeCallback(ctx.callbackQuery.data);
    const rb = d?.kind === 'runbook-show' ? rbs.runbooks.get(d.runbook) : undefined;
    if (!rb) return ctx.answerCallbackQuery({ text: ctx.tr('button-unknown') });
    await ctx.answerCallbackQuery();
    await ctx.replyHtml(describe(ctx, rb));
  });

  /** Posts the request (or starts at once when no approval is needed). */
  async function request(
    ctx: BotContext,
    rb: Runbook,
    values: Record<string, string>,
    incident?: string,
  ) {
    if (!roleAtLeast(ctx.person.role, rb.role)) {
      await s.audit.append('run.refused', ctx.person, {
        runbook: rb.id,
        role: ctx.person.role,
      });
      await requireRole(ctx, rb.role);
      return;
    }
    const chat =
      ctx.msg?.is_topic_message && ctx.msg.message_thread_id
        ? `${ctx.chat!.id}:${ctx.msg.message_thread_id}`
        : String(ctx.chat!.id);
    let rec;
    try {
      rec = await s.runbooks.request(rb, values, ctx.person, chat, incident);
    } catch (e) {
      if (e instanceof ValidationError) {
        const issues = e.issues
          .map((i) => `• <code>${escapeHtml(i.path)}</code>: ${escapeHtml(i.message)}`)
          .join('\n');
        await ctx.replyHtml(`${ctx.tr('run-invalid', { id: escapeHtml(rb.id) })}\n${issues}`);
        return;
      }
      throw e;
    }
    const text = s.runbooks.renderRun(rb, rec, ctx.locale);
    const msg = (await ctx.replyHtml(
      text,
      rb.approval.required ? s.runbooks.voteKeyboard(rec.token, ctx.locale) : undefined,
    )) as { message_id: number };
    await s.runbooks.attachMessage(rec.token, msg.message_id);
    if (!rb.approval.required)
      await s.runbooks.startWithoutApproval(
        rb,
        { ...rec, messageId: msg.message_id },
        msg.message_id,
      );
  }

  command(c, 'run', async (ctx) => {
    let tokens: string[];
    try {
      tokens = tokenizeArgs(String(ctx.match ?? ''));
    } catch (e) {
      return void (await ctx.replyHtml(
        ctx.tr('run-usage') + `\n${escapeHtml((e as Error).message)}`,
      ));
    }
    const [id = '', ...rest] = tokens;
    const rb = rbs.runbooks.get(id);
    if (!rb) return void (await unknownRunbook(ctx, id));
    const values: Record<string, string> = {};
    let incident: string | undefined;
    for (const tok of rest) {
      const inc = /^INC-\d+$/i.test(tok) ? normalizeIncidentId(tok) : undefined;
      if (inc) {
        incident = inc;
        continue;
      }
      const eq = tok.indexOf('=');
      if (eq <= 0)
        return void (await ctx.replyHtml(
          ctx.tr('run-bad-token', { token: escapeHtml(trimText(tok, 64)) }),
        ));
      values[tok.slice(0, eq)] = tok.slice(eq + 1);
    }
    incident ??= ctx.topicIncident; // /run in a war-room topic is about its incident
    if (incident && !(await s.repo.get(incident)))
      return void (await ctx.replyHtml(ctx.tr('inc-unknown', { id: incident })));
    await request(ctx, rb, values, incident);
  });

  // the Runbooks button on an incident: offer runbooks whose `match` fits its labels
  c.callbackQuery(/^i:rb:/, async (ctx) => {
    const d = decodeCallback(ctx.callbackQuery.data);
    if (!d || d.kind !== 'inc') return ctx.answerCallbackQuery({ text: ctx.tr('button-unknown') });
    const inc = await s.repo.get(`INC-${d.seq}`);
    if (!inc)
      return ctx.answerCallbackQuery({
        text: stripTags(ctx.tr('inc-unknown', { id: `INC-${d.seq}` })),
      });
    const fits = rbs.forLabels({ ...inc.labels, severity: inc.severity });
    await ctx.answerCallbackQuery();
    if (fits.length === 0)
      return void (await ctx.replyHtml(ctx.tr('runbooks-none-match', { id: inc.id })));
    await ctx.replyHtml(ctx.tr('runbooks-for', { id: inc.id }), {
      inline_keyboard: fits.slice(0, 10).map((r) => [
        {
          text: `${r.kind === 'diagnostic' ? '🔎' : '🛠'} ${r.title}`.slice(0, 60),
          callback_data: encodeCallback({ kind: 'runbook-offer', runbook: r.id, seq: inc.seq }),
        },
      ]),
    });
  });

  c.callbackQuery(/^ro:/, async (ctx) => {
    const d = decodeCallback(ctx.callbackQuery.data);
    const rb = d?.kind === 'runbook-offer' ? rbs.runbooks.get(d.runbook) : undefined;
    if (!rb || d?.kind !== 'runbook-offer')
      return ctx.answerCallbackQuery({ text: ctx.tr('button-unknown') });
    if (!(await requireRole(ctx, 'responder'))) return;
    await ctx.answerCallbackQuery();
    await request(ctx, rb, {}, `INC-${d.seq}`);
  });

  c.callbackQuery(/^ap:/, async (ctx) => {
    const d = decodeCallback(ctx.callbackQuery.data);
    if (!d || d.kind !== 'approval')
      return ctx.answerCallbackQuery({ text: ctx.tr('button-unknown') });
    const r = await s.runbooks.vote(d.token, ctx.person, d.vote, ctx.chat?.id ?? 0);
    const text =
      r.outcome === 'forbidden'
        ? ctx.tr('refused-role', {
            role: ctx.tr(`role-${'need' in r ? r.need : 'approver'}`),
            yours: ctx.tr(`role-${ctx.person.role}`),
          })
        : ctx.tr(`vote-${r.outcome}`, {
            have: 'have' in r ? (r.have ?? 0) : 0,
            need: 'needed' in r ? (r.needed ?? 0) : 0,
          });
    await ctx.answerCallbackQuery({
      text: stripTags(text),
      show_alert: r.outcome === 'forbidden' || r.outcome === 'self',
    });
  });

  c.callbackQuery(/^rd:/, async (ctx) => {
    const d = decodeCallback(ctx.callbackQuery.data);
    const out = d?.kind === 'run-details' ? await s.runbooks.runOutput(d.run) : undefined;
    if (!out) return ctx.answerCallbackQuery({ text: ctx.tr('button-unknown') });
    // like every button: only in the run's own chat, and only for the role that may run it
    if (!out.run.chat || String(parseChatKey(out.run.chat).chatId) !== String(ctx.chat?.id))
      return ctx.answerCallbackQuery({ text: ctx.tr('vote-wrong_chat'), show_alert: true });
    if (!(await requireRole(ctx, rbs.runbooks.get(out.run.runbook ?? '')?.role ?? 'responder')))
      return;
    await ctx.answerCallbackQuery();
    const tail = out.output.length > 3500 ? `…${out.output.slice(-3500)}` : out.output;
    await ctx.replyHtml(
      `${ctx.tr('run-output', { id: escapeHtml(out.run.runbook ?? '') })}\n<pre>${escapeHtml(tail || '—')}</pre>`,
    );
  });

  return c;
}

import { Composer } from 'grammy';
import { roleAtLeast } from '../../config.js';
import { ValidationError } from '../../errors.js';
import { normalizeIncidentId } from '../../domain/incident.js';
import { parseChatKey } from '../../incidents/routing.js';
import { tokenizeArgs } from '../../runbooks/params.js';
import type { Runbook } from '../../runbooks/schema.js';
import type { Services } from '../../services.js';
import {
  describeRunbook,
  renderRun,
  runBadToken,
  runbookList,
  runbookOffers,
  runInvalid,
  runOutput,
  runUsage,
  unknownRunbook as unknownRunbookText,
  voteKeyboard,
} from '../../telegram/views/runbooks.js';
import { route, unpack } from '../../telegram/callback-data.js';
import type { BotContext } from '../context.js';
import { command } from '../commands.js';
import { requireRole, stripTags } from '../roles.js';

/** /runbooks, /runbook, /run, the Runbooks button of incidents, and approval buttons. */
export function runbooksFeature(s: Services) {
  const c = new Composer<BotContext>();
  const rbs = s.runbooks;

  const unknownRunbook = (ctx: BotContext, id: string) =>
    ctx.replyHtml(unknownRunbookText(ctx.tr, id, rbs.runbooks.keys()));

  command(c, 'runbooks', async (ctx) => {
    // viewers see every runbook (to read); everyone else the ones their role may request
    const list = rbs.visibleTo('admin');
    const mine = ctx.person.role === 'viewer' ? [] : rbs.visibleTo(ctx.person.role);
    if (list.length === 0) return void (await ctx.replyHtml(ctx.tr('runbooks-none')));
    const { text, keyboard } = runbookList(ctx.tr, list, mine);
    await ctx.replyHtml(text, keyboard);
  });

  command(c, 'runbook', async (ctx) => {
    const id = String(ctx.match ?? '').trim();
    const rb = rbs.runbooks.get(id);
    if (!rb) return void (await unknownRunbook(ctx, id));
    await ctx.replyHtml(describeRunbook(ctx.tr, rb));
  });

  c.callbackQuery(route('runbook-show'), async (ctx) => {
    const d = unpack('runbook-show', ctx.callbackQuery.data);
    const rb = d ? rbs.runbooks.get(d.runbook) : undefined;
    if (!rb) return ctx.answerCallbackQuery({ text: ctx.tr('button-unknown') });
    await ctx.answerCallbackQuery();
    await ctx.replyHtml(describeRunbook(ctx.tr, rb));
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
        await ctx.replyHtml(runInvalid(ctx.tr, rb, e.issues));
        return;
      }
      throw e;
    }
    const text = renderRun(ctx.tr, rb, rec);
    const msg = (await ctx.replyHtml(
      text,
      rb.approval.required ? voteKeyboard(ctx.tr, rec.token) : undefined,
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
      return void (await ctx.replyHtml(runUsage(ctx.tr, (e as Error).message)));
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
      if (eq <= 0) return void (await ctx.replyHtml(runBadToken(ctx.tr, tok)));
      values[tok.slice(0, eq)] = tok.slice(eq + 1);
    }
    incident ??= ctx.topicIncident; // /run in a war-room topic is about its incident
    if (incident && !(await s.repo.get(incident)))
      return void (await ctx.replyHtml(ctx.tr('inc-unknown', { id: incident })));
    await request(ctx, rb, values, incident);
  });

  // the Runbooks button on an incident: offer runbooks whose `match` fits its labels
  c.callbackQuery(route('inc', { only: ['rb'] }), async (ctx) => {
    const d = unpack('inc', ctx.callbackQuery.data);
    if (!d) return ctx.answerCallbackQuery({ text: ctx.tr('button-unknown') });
    const inc = await s.repo.get(`INC-${d.seq}`);
    if (!inc)
      return ctx.answerCallbackQuery({
        text: stripTags(ctx.tr('inc-unknown', { id: `INC-${d.seq}` })),
      });
    const fits = rbs.forLabels({ ...inc.labels, severity: inc.severity });
    await ctx.answerCallbackQuery();
    if (fits.length === 0)
      return void (await ctx.replyHtml(ctx.tr('runbooks-none-match', { id: inc.id })));
    const offers = runbookOffers(ctx.tr, inc, fits);
    await ctx.replyHtml(offers.text, offers.keyboard);
  });

  c.callbackQuery(route('runbook-offer'), async (ctx) => {
    const d = unpack('runbook-offer', ctx.callbackQuery.data);
    const rb = d ? rbs.runbooks.get(d.runbook) : undefined;
    if (!rb || !d) return ctx.answerCallbackQuery({ text: ctx.tr('button-unknown') });
    if (!(await requireRole(ctx, 'responder'))) return;
    await ctx.answerCallbackQuery();
    await request(ctx, rb, {}, `INC-${d.seq}`);
  });

  c.callbackQuery(route('approval'), async (ctx) => {
    const d = unpack('approval', ctx.callbackQuery.data);
    if (!d) return ctx.answerCallbackQuery({ text: ctx.tr('button-unknown') });
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

  c.callbackQuery(route('run-details'), async (ctx) => {
    const d = unpack('run-details', ctx.callbackQuery.data);
    const out = d ? await s.runbooks.runOutput(d.run) : undefined;
    if (!out) return ctx.answerCallbackQuery({ text: ctx.tr('button-unknown') });
    // like every button: only in the run's own chat, and only for the role that may run it
    if (!out.run.chat || String(parseChatKey(out.run.chat).chatId) !== String(ctx.chat?.id))
      return ctx.answerCallbackQuery({ text: ctx.tr('vote-wrong_chat'), show_alert: true });
    if (!(await requireRole(ctx, rbs.runbooks.get(out.run.runbook ?? '')?.role ?? 'responder')))
      return;
    await ctx.answerCallbackQuery();
    await ctx.replyHtml(runOutput(ctx.tr, out.run.runbook ?? '', out.output));
  });

  return c;
}

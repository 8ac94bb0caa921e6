import { Composer, type Context } from 'grammy';
import { INCIDENT_ROLES, type IncidentRole } from '../../domain/incident.js';
import { escapeHtml, trimText } from '../../telegram/html.js';
import type { Services } from '../../services.js';
import type { BotContext } from '../context.js';
import { command } from '../commands.js';
import { describeResult, incidentFromCommand } from './incidents.js';

/** How much of a message written in a war-room topic the timeline keeps. */
export const SAID_MAX = 500;

/** The incident whose war-room topic a message was written in (one store read; none outside topics). */
export async function topicIncidentOf(s: Services, ctx: Context): Promise<string | undefined> {
  const m = ctx.msg;
  const chatId = ctx.chat?.id;
  if (!m?.is_topic_message || !m.message_thread_id || chatId === undefined) return undefined;
  try {
    return await s.warRooms.topicOwner(chatId, m.message_thread_id);
  } catch {
    return undefined; // Redis down: commands still work with an explicit id
  }
}

/** /role, and the conversation of a war-room topic onto its incident's timeline. */
export function warRoomFeature(s: Services) {
  const c = new Composer<BotContext>();

  command(c, 'role', async (ctx) => {
    const { id, rest } = incidentFromCommand(ctx);
    const [roleArg = '', who = '', ...extra] = rest.split(/\s+/).filter(Boolean);
    const role = roleArg.toLowerCase() as IncidentRole;
    if (!id || !INCIDENT_ROLES.includes(role) || !who || extra.length)
      return void (await ctx.replyHtml(ctx.tr('role-usage')));
    const person = who.replace(/^@/, '');
    if (!Object.hasOwn(s.config.people, person))
      return void (await ctx.replyHtml(
        ctx.tr('assign-unknown', {
          who: escapeHtml(trimText(person, 64)),
          people: escapeHtml(Object.keys(s.config.people).join(', ')),
        }),
      ));
    const r = await s.actions.setRole(id, ctx.person.name, role, person);
    const vars = { role: ctx.tr(`inc-role-${role}`), person: escapeHtml(person) };
    if (!r.ok && r.reason === 'already' && r.inc.roles?.[role] === person)
      return void (await ctx.replyHtml(ctx.tr('role-already', { id, ...vars })));
    await ctx.replyHtml(describeResult(ctx, id, r, 'did-role', vars));
  });

  // what people write in a war-room topic joins the incident's timeline (commands, bots and
  // service messages such as "topic renamed" are not conversation)
  c.on('message', async (ctx, next) => {
    const id = ctx.topicIncident;
    const m = ctx.message;
    const text = m.text ?? m.caption;
    if (!id || !m.from || m.from.is_bot || !text || m.entities?.[0]?.type === 'bot_command')
      return next();
    await s.actions.said(id, ctx.person.name, trimText(text, SAID_MAX), {
      message_id: m.message_id,
      at: m.date * 1000,
    });
    return next();
  });

  return c;
}

import { Composer } from 'grammy';
import { parseDuration } from '../../duration.js';
import { nextOnCall } from '../../escalation/schedule.js';
import { escapeHtml } from '../../telegram/html.js';
import { formatTime, formatTimeIn } from '../../timezone.js';
import type { Services } from '../../services.js';
import type { BotContext } from '../context.js';
import { command } from '../commands.js';
import { own } from '../../own.js';

/** /oncall (now and next per schedule, with covers and swaps) and /override (admins). */
export function oncallFeature(s: Services) {
  const c = new Composer<BotContext>();

  command(c, 'oncall', async (ctx) => {
    const names = Object.keys(s.config.schedules);
    if (names.length === 0) return void (await ctx.replyHtml(ctx.tr('oncall-none')));
    const now = s.clock.now();
    const lines = [ctx.tr('oncall-title')];
    for (const name of names) {
      const extra = await s.escalation.runtimeOverrides(name);
      const cur = await s.escalation.onCall(name, now);
      const sched = own(s.config.schedules, name)!;
      const nxt = nextOnCall(sched, now, extra);
      // handovers read best in the zone they are defined in
      const at = (ms: number) => formatTimeIn(ms, sched.rotation.handoff_tz);
      lines.push(
        ctx.tr('oncall-line', {
          schedule: escapeHtml(name),
          who: escapeHtml(cur?.person ?? '—'),
          until: cur ? at(cur.to) : '—',
          // Fluent trims a value's leading space: the gap before "(override)" is added here
          override: !cur?.override
            ? ''
            : ` ${
                cur.kind
                  ? ctx.tr(`oncall-${cur.kind}`, { for: escapeHtml(cur.for ?? '') })
                  : ctx.tr('oncall-override')
              }`,
          next: escapeHtml(nxt?.person ?? '—'),
          from: nxt ? at(nxt.from) : '—',
        }),
      );
      // accepted covers and swaps still to come or under way: who covers whom until when
      for (const o of extra.filter((x) => x.kind).sort((a, b) => a.from - b.from))
        lines.push(
          ctx.tr(`oncall-${o.kind}-line`, {
            who: escapeHtml(o.person),
            for: escapeHtml(o.for ?? ''),
            from: at(o.from),
            until: at(o.to),
          }),
        );
    }
    await ctx.replyHtml(lines.join('\n'));
  });

  command(c, 'override', async (ctx) => {
    const [schedule = '', person = '', dur = ''] = String(ctx.match ?? '')
      .trim()
      .split(/\s+/);
    const ms = parseDuration(dur);
    if (
      !own(s.config.schedules, schedule) ||
      !own(s.config.people, person) ||
      !ms ||
      ms > 30 * 86_400_000
    ) {
      return void (await ctx.replyHtml(
        ctx.tr('override-usage', {
          schedules: escapeHtml(Object.keys(s.config.schedules).join(', ') || '—'),
          people: escapeHtml(Object.keys(s.config.people).join(', ') || '—'),
        }),
      ));
    }
    const now = s.clock.now();
    // appended in one script, so an accepted /cover at the same moment is never lost
    await s.overrides.add(schedule, [{ person, from: now, to: now + ms }], now);
    await s.audit.append('override.create', ctx.person, { schedule, person, to: now + ms });
    await ctx.replyHtml(
      ctx.tr('override-set', {
        schedule: escapeHtml(schedule),
        who: escapeHtml(person),
        until: formatTime(now + ms),
      }),
    );
  });

  return c;
}

import type { FastifyInstance, FastifyReply } from 'fastify';
import {
  buildIcs,
  createCalendarTokens,
  feedText,
  scheduleEvents,
  schedulesOf,
  FEED_MAX_EVENTS,
  type FeedEvent,
} from '../escalation/calendar.js';
import { own } from '../own.js';
import type { Services } from '../services.js';
import { createCalendarTokenStore } from '../store/calendar-tokens.js';
import { safeEqual } from './auth.js';

/** Who a `?token=` speaks for: the whole deployment (`calendar_token`) or one person. */
type Reader = { all: true } | { all: false; person: string };

/**
 * Calendar feeds (RFC 5545) under `/api/v1`: `schedules/<name>.ics` and `people/<name>.ics`, 60
 * days ahead with overrides, covers and swaps. Calendar apps cannot send headers, so the token is in
 * the query: the deployment-wide `calendar_token` reads every feed; a personal token (/calendar)
 * reads its owner's feed and the schedules its owner is a member of. Wrong or missing: 401.
 */
export function calendarRoutes(deps: { services: Services }) {
  const s = deps.services;
  const tokens = createCalendarTokens({ store: createCalendarTokenStore(s) });
  const feeds = {
    config: s.config,
    overrides: (schedule: string, since: number) => s.overrides.active(schedule, since),
  };
  const text = feedText(s.t, s.config);

  async function reader(token: unknown): Promise<Reader | undefined> {
    const tok = typeof token === 'string' ? token : '';
    // the config token is compared in constant time; a personal token is found by its sha256
    const deployment = !!s.config.calendar_token && safeEqual(tok, s.config.calendar_token);
    if (deployment && tok) return { all: true };
    const person = tok ? await tokens.ownerOf(tok) : undefined;
    if (person && own(s.config.people, person)) return { all: false, person };
    return undefined;
  }

  function send(reply: FastifyReply, file: string, body: string) {
    return reply
      .header('content-type', 'text/calendar; charset=utf-8')
      .header('content-disposition', `inline; filename="${file}"`)
      .header('cache-control', 'private, max-age=300')
      .send(body);
  }

  const deny = (reply: FastifyReply, status: number, error: string) =>
    reply.status(status).send({ error });

  /** `name.ics` → name (names are `[A-Za-z0-9_.-]+`). */
  const nameOf = (file: string) => (file.endsWith('.ics') ? file.slice(0, -4) : undefined);

  return async function plugin(app: FastifyInstance) {
    app.get<{ Params: { file: string }; Querystring: { token?: string } }>(
      '/schedules/:file',
      async (req, reply) => {
        const who = await reader(req.query.token);
        if (!who) return deny(reply, 401, 'missing or invalid calendar token');
        const name = nameOf(req.params.file);
        if (!name || !own(s.config.schedules, name)) return deny(reply, 404, 'no such schedule');
        if (!who.all && !schedulesOf(s.config, who.person).includes(name))
          return deny(reply, 403, 'this token may not read that schedule');
        const now = s.clock.now();
        const events = await scheduleEvents(feeds, name, now);
        return send(reply, `${name}.ics`, buildIcs({ ...text.schedule(name), events, now }));
      },
    );

    app.get<{ Params: { file: string }; Querystring: { token?: string } }>(
      '/people/:file',
      async (req, reply) => {
        const who = await reader(req.query.token);
        if (!who) return deny(reply, 401, 'missing or invalid calendar token');
        const name = nameOf(req.params.file);
        if (!name || !own(s.config.people, name)) return deny(reply, 404, 'no such person');
        if (!who.all && who.person !== name)
          return deny(reply, 403, "this token may not read that person's feed");
        const now = s.clock.now();
        const events: FeedEvent[] = [];
        for (const sched of Object.keys(s.config.schedules)) {
          if (events.length >= FEED_MAX_EVENTS) break;
          for (const e of await scheduleEvents(feeds, sched, now))
            if (e.person === name) events.push(e);
        }
        events.sort((a, b) => a.from - b.from);
        return send(
          reply,
          `${name}.ics`,
          buildIcs({ ...text.person(name), events: events.slice(0, FEED_MAX_EVENTS), now }),
        );
      },
    );
  };
}

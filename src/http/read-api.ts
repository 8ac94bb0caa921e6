import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ValidationError } from '../errors.js';
import { normalizeIncidentId } from '../domain/incident.js';
import type { PageState } from '../store/incidents.js';
import { buildPostmortem } from '../reports/postmortem.js';
import type { Services } from '../services.js';
import { bearer, safeEqual } from './auth.js';
import { HttpProblem } from './errors.js';

/** Timeline entries per incident in a list page (the newest); the single-incident route has all. */
export const LIST_TIMELINE_ENTRIES = 20;
const LIST_STATES = ['open', 'triggered', 'acknowledged', 'resolved', 'all'] as const;

/** `?state=&limit=&cursor=` of the read API; a bad value is a 400 naming the parameter. */
function parseListQuery(q: Record<string, unknown>): {
  state: PageState;
  limit: number;
  cursor?: number;
} {
  const issues: { path: string; message: string }[] = [];
  const one = (k: string) => {
    const v = q[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') {
      issues.push({ path: k, message: 'expected one value' });
      return undefined;
    }
    return v;
  };
  const state = one('state') ?? 'all';
  if (!(LIST_STATES as readonly string[]).includes(state))
    issues.push({ path: 'state', message: `expected one of ${LIST_STATES.join(', ')}` });
  const rawLimit = one('limit');
  const limit = rawLimit === undefined ? 100 : Number(rawLimit);
  if (!/^\d+$/.test(rawLimit ?? '100') || !Number.isInteger(limit) || limit < 1 || limit > 1000)
    issues.push({ path: 'limit', message: 'expected a whole number from 1 to 1000' });
  const rawCursor = one('cursor');
  let cursor: number | undefined;
  if (rawCursor !== undefined && rawCursor !== '') {
    const id = normalizeIncidentId(rawCursor);
    if (!id) issues.push({ path: 'cursor', message: 'expected next_cursor of a previous page' });
    else cursor = Number(id.slice(4));
  }
  if (issues.length) throw new ValidationError('invalid query', issues);
  return { state: state as PageState, limit, cursor };
}

/**
 * The read API under `/api/v1` (bearer `api_token`): incident pages with the newest timeline
 * entries, one incident with its alerts and whole timeline, and its postmortem draft in Markdown.
 */
export function readApiRoutes(deps: { services: Services }) {
  const s = deps.services;
  const { config } = s;

  function requireApi(req: FastifyRequest) {
    const token = bearer(req.headers.authorization);
    if (!config.api_token || !token || !safeEqual(token, config.api_token))
      throw new HttpProblem(401, 'missing or invalid bearer token');
  }

  return async function plugin(app: FastifyInstance) {
    app.get<{ Querystring: Record<string, unknown> }>('/incidents', async (req) => {
      requireApi(req);
      const q = parseListQuery(req.query);
      // one round trip: index range, hashes and timeline tails (inc_page.lua)
      const page = await s.repo.page({ ...q, timeline: LIST_TIMELINE_ENTRIES });
      return {
        incidents: page.incidents.map((inc) => {
          const tl = page.timelines.get(inc.id);
          return {
            ...inc,
            // the last entries only; the whole timeline is at timeline_url
            timeline: tl?.entries ?? [],
            timeline_total: tl?.total ?? 0,
            timeline_url: `/api/v1/incidents/${inc.id}`,
          };
        }),
        next_cursor: page.next ?? null,
      };
    });

    app.get<{ Params: { id: string } }>('/incidents/:id', async (req) => {
      requireApi(req);
      const id = normalizeIncidentId(req.params.id);
      const inc = id ? await s.repo.get(id) : undefined;
      if (!inc || !id) throw new HttpProblem(404, 'no such incident');
      return { ...inc, alerts: await s.repo.alerts(id), timeline: await s.repo.timeline(id) };
    });

    app.get<{ Params: { id: string } }>('/incidents/:id/postmortem', async (req, reply) => {
      requireApi(req);
      const id = normalizeIncidentId(req.params.id);
      const inc = id ? await s.repo.get(id) : undefined;
      if (!inc || !id) throw new HttpProblem(404, 'no such incident');
      const md = buildPostmortem(inc, await s.repo.timeline(id), {
        ackTargetMs: config.severities[inc.severity]?.ack_within,
        now: s.clock.now(),
      });
      return reply.header('content-type', 'text/markdown; charset=utf-8').send(md);
    });
  };
}

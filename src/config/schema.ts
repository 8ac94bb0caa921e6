import { z } from 'zod';
import { DURATION_HINT, parseDuration } from '../duration.js';
import { SEVERITIES, type Severity } from '../domain/severity.js';
import { specProblem } from '../matching/re2.js';
import { isTimeZone } from '../timezone.js';
import { ROLES } from '../domain/people.js';

const duration = z.string().transform((s, ctx) => {
  const ms = parseDuration(s);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: DURATION_HINT });
    return z.NEVER;
  }
  return ms;
});

const isoTime = z.string().transform((s, ctx) => {
  const t = Date.parse(s);
  if (Number.isNaN(t)) {
    ctx.addIssue({ code: 'custom', message: 'expected an ISO time like 2026-01-05T09:00:00Z' });
    return z.NEVER;
  }
  return t;
});

/** Tokens and secrets shorter than this are refused at start (a guessable token is no token). */
export const MIN_SECRET = 16;
export const SECRET_HINT = `must be at least ${MIN_SECRET} characters (use a long random value)`;

const name = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'expected a name of letters, digits, _ . -');

const chatSchema = z.strictObject({
  id: z.number().int(),
  thread_id: z.number().int().positive().optional(),
  /**
   * A war-room forum topic per incident at or above `min_severity` (a forum-enabled supergroup;
   * the bot needs the can_manage_topics right).
   */
  war_room: z
    .strictObject({
      topics: z.boolean().default(true),
      min_severity: z.enum(SEVERITIES as unknown as [Severity, ...Severity[]]).default('P1'),
    })
    .optional(),
});
const personSchema = z.strictObject({
  telegram_id: z.number().int().positive(),
  roles: z.array(z.enum(ROLES)).default(['viewer']),
  name: z.string().optional(),
});
const scheduleSchema = z.strictObject({
  rotation: z
    .strictObject({
      start: isoTime,
      shift: duration,
      members: z.array(name).min(1),
      /**
       * IANA zone of the handover: with a shift of whole days, handovers keep `start`'s wall-clock
       * time there across daylight-saving changes.
       */
      handoff_tz: z
        .string()
        .refine(isTimeZone, 'unknown time zone (expected an IANA name such as Europe/Berlin)')
        .optional(),
    })
    .refine((r) => !r.handoff_tz || r.shift % 86_400_000 === 0, {
      message: 'handoff_tz needs a shift of whole days (1d, 7d, ...)',
      path: ['handoff_tz'],
    }),
  overrides: z.array(z.strictObject({ person: name, from: isoTime, to: isoTime })).default([]),
});
const target = z
  .string()
  .regex(
    /^(person|schedule|chat|webhook):[A-Za-z0-9_.-]+$/,
    'expected person:NAME, schedule:NAME, chat:NAME or webhook:NAME',
  );
const policySchema = z.strictObject({
  levels: z.array(z.strictObject({ after: duration, notify: z.array(target).min(1) })).min(1),
  repeat: z.number().int().min(0).max(20).default(0),
});
const severitySchema = z.strictObject({
  ack_within: duration,
  update_every: duration.optional(),
  reack_after: duration.optional(),
  policy: name.optional(),
});
const matcher = z.record(z.string(), z.string());
const routeSchema = z.strictObject({
  match: matcher.optional(),
  chat: name,
  severity_from: z.string().optional(),
  severity: z.enum(SEVERITIES as unknown as [Severity, ...Severity[]]).optional(),
  /** Extra chats that get the incident too (e.g. a security channel). */
  also: z.array(name).optional(),
});
const httpUrl = z.string().refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), {
  message: 'expected an http(s) URL',
});
const integrationSchema = z
  .strictObject({
    kind: z.enum(['alertmanager', 'grafana', 'generic', 'events-v2', 'heartbeat', 'opsgenie']),
    token: z.string().min(MIN_SECRET, SECRET_HINT),
    every: duration.optional(),
    /** Inbound rate limit: at most `max` requests per `per`. */
    rate_limit: z.strictObject({ max: z.number().int().positive(), per: duration }).optional(),
    /** Severity for heartbeat incidents (default P1). */
    severity: z.enum(SEVERITIES as unknown as [Severity, ...Severity[]]).optional(),
    chat: name.optional(),
    /** alertmanager only: Alertmanager's own API, for two-way silences (src/alertmanager/). */
    api_url: httpUrl.optional(),
    /** Alertmanager's web auth; values come from `${VAR}` in the YAML. */
    api_auth: z
      .union([
        z.strictObject({ bearer: z.string().min(1) }),
        z.strictObject({
          basic: z.strictObject({ user: z.string().min(1), password: z.string().min(1) }),
        }),
      ])
      .optional(),
    /** Acknowledge also silences the group in Alertmanager until resolved or unacknowledged. */
    silence_on_ack: z.boolean().optional(),
  })
  .refine((i) => i.kind !== 'heartbeat' || i.every !== undefined, {
    message: 'a heartbeat integration needs `every`',
    path: ['every'],
  })
  .superRefine((i, ctx) => {
    for (const k of ['api_url', 'api_auth', 'silence_on_ack'] as const)
      if (i[k] !== undefined && i.kind !== 'alertmanager')
        ctx.addIssue({
          code: 'custom',
          path: [k],
          message: 'only an alertmanager integration takes this',
        });
    for (const k of ['api_auth', 'silence_on_ack'] as const)
      if (i[k] !== undefined && i.kind === 'alertmanager' && !i.api_url)
        ctx.addIssue({ code: 'custom', path: [k], message: 'needs `api_url`' });
  });
const outboxSchema = z.strictObject({
  per_chat_interval: duration.default(1000),
  group_per_minute: z.number().int().positive().default(20),
  global_per_second: z.number().int().positive().default(30),
  /** Pending new-incident posts in one chat above which they merge into a digest. */
  digest_threshold: z.number().int().min(2).default(5),
  /**
   * How long a claimed send may take before another worker may take it over (a crashed replica's
   * job comes back after this). Bot API calls time out well before it, so a live worker never races it.
   */
  lease: duration.default(15_000),
});

/** Variables a notifier's body may use as `{{name}}` (see src/escalation/notifiers.ts). */
export const NOTIFIER_VARS = [
  'id',
  'title',
  'severity',
  'state',
  'level',
  'people',
  'chat',
  'link',
] as const;
const notifierSchema = z.strictObject({
  kind: z.literal('webhook'),
  url: z.string().refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), {
    message: 'expected an http(s) URL',
  }),
  method: z.enum(['POST', 'PUT', 'GET']).default('POST'),
  /** Each request gives up after this long (at most 30s). */
  timeout: duration
    .refine((ms) => ms > 0 && ms <= 30_000, 'expected a duration between 1s and 30s')
    .default(10_000),
  headers: z
    .record(z.string().regex(/^[A-Za-z0-9-]+$/, 'expected a header name'), z.string())
    .default({}),
  body: z
    .string()
    .max(16_384)
    .superRefine((b, ctx) => {
      for (const m of b.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)) {
        if (!(NOTIFIER_VARS as readonly string[]).includes(m[1]!))
          ctx.addIssue({
            code: 'custom',
            message: `unknown variable "${m[1]}" (expected ${NOTIFIER_VARS.join(', ')})`,
          });
      }
    })
    .optional(),
});

/** Longest label silence each role may set (/silence, /maintenance, the incident Silence button). */
const silencesSchema = z.strictObject({
  max_duration: z
    .strictObject({
      responder: duration.default(86_400_000),
      /** Unset: the responder's maximum. */
      approver: duration.optional(),
      admin: duration.default(30 * 86_400_000),
    })
    .default({ responder: 86_400_000, admin: 30 * 86_400_000 }),
});

export const configSchema = z
  .strictObject({
    locale: z.enum(['en', 'ar']).default('en'),
    chats: z
      .record(name, chatSchema)
      .refine((c) => Object.keys(c).length > 0, 'at least one chat is needed'),
    people: z.record(name, personSchema).default({}),
    schedules: z.record(name, scheduleSchema).default({}),
    escalation_policies: z.record(name, policySchema).default({}),
    severities: z
      .strictObject({
        P0: severitySchema.optional(),
        P1: severitySchema.optional(),
        P2: severitySchema.optional(),
        P3: severitySchema.optional(),
      })
      .default({}),
    routes: z.array(routeSchema).default([]),
    integrations: z.record(name, integrationSchema).default({}),
    api_token: z.string().min(MIN_SECRET, SECRET_HINT).optional(),
    runbooks_dir: z.string().default('./commands'),
    /** Chat (by name) that receives /update status posts for stakeholders. */
    stakeholder_chat: name.optional(),
    outbox: outboxSchema.default({
      per_chat_interval: 1000,
      group_per_minute: 20,
      global_per_second: 30,
      digest_threshold: 5,
      lease: 15_000,
    }),
    /** Outgoing notifiers an escalation level may name as `webhook:NAME` (phone, SMS, push). */
    notifiers: z.record(name, notifierSchema).default({}),
    silences: silencesSchema.default({
      max_duration: { responder: 86_400_000, admin: 30 * 86_400_000 },
    }),
    /** Intake requests in flight above which intake answers 503 with Retry-After. */
    http: z
      .strictObject({ max_in_flight: z.number().int().positive().default(256) })
      .default({ max_in_flight: 256 }),
    /** Per-person limits on what the bot is asked to do. */
    limits: z
      .strictObject({ commands_per_minute: z.number().int().positive().default(20) })
      .default({ commands_per_minute: 20 }),
    /** How long resolved incidents are kept in Redis before retention deletes them. */
    retention: z
      .strictObject({ resolved: duration.default(180 * 86_400_000) })
      .default({ resolved: 180 * 86_400_000 }),
    /** Token for every calendar feed (`?token=`); people can also mint their own with /calendar. */
    calendar_token: z.string().min(MIN_SECRET, SECRET_HINT).optional(),
    /** Public base URL of the HTTP server, for links the bot gives out (calendar feeds). */
    public_url: z
      .string()
      .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), {
        message: 'expected an http(s) URL',
      })
      .optional(),
  })
  .superRefine((c, ctx) => {
    const chats = new Set(Object.keys(c.chats));
    const people = new Set(Object.keys(c.people));
    const schedules = new Set(Object.keys(c.schedules));
    const policies = new Set(Object.keys(c.escalation_policies));
    const notifiers = new Set(Object.keys(c.notifiers));
    const need = (ok: boolean, p: (string | number)[], message: string) => {
      if (!ok) ctx.addIssue({ code: 'custom', path: p, message });
    };
    c.routes.forEach((r, i) => {
      need(chats.has(r.chat), ['routes', i, 'chat'], `unknown chat "${r.chat}"`);
      r.also?.forEach((a, j) =>
        need(chats.has(a), ['routes', i, 'also', j], `unknown chat "${a}"`),
      );
      for (const [k, v] of Object.entries(r.match ?? {})) {
        const problem = specProblem(v);
        if (problem) need(false, ['routes', i, 'match', k], problem);
      }
    });
    for (const [sn, s] of Object.entries(c.schedules)) {
      s.rotation.members.forEach((m, i) =>
        need(people.has(m), ['schedules', sn, 'rotation', 'members', i], `unknown person "${m}"`),
      );
      s.overrides.forEach((o, i) => {
        need(
          people.has(o.person),
          ['schedules', sn, 'overrides', i, 'person'],
          `unknown person "${o.person}"`,
        );
        need(o.to > o.from, ['schedules', sn, 'overrides', i, 'to'], 'must be after `from`');
      });
      need(s.rotation.shift > 0, ['schedules', sn, 'rotation', 'shift'], 'must be longer than 0s');
    }
    for (const [pn, p] of Object.entries(c.escalation_policies)) {
      p.levels.forEach((l, i) =>
        l.notify.forEach((t, j) => {
          const [kind, ref] = t.split(':') as [string, string];
          const known =
            kind === 'person'
              ? people
              : kind === 'schedule'
                ? schedules
                : kind === 'webhook'
                  ? notifiers
                  : chats;
          need(
            known.has(ref),
            ['escalation_policies', pn, 'levels', i, 'notify', j],
            `unknown ${kind} "${ref}"`,
          );
        }),
      );
    }
    for (const sev of SEVERITIES) {
      const s = c.severities[sev];
      if (s?.policy)
        need(policies.has(s.policy), ['severities', sev, 'policy'], `unknown policy "${s.policy}"`);
    }
    for (const [n, i] of Object.entries(c.integrations)) {
      if (i.chat) need(chats.has(i.chat), ['integrations', n, 'chat'], `unknown chat "${i.chat}"`);
    }
    if (c.stakeholder_chat)
      need(
        chats.has(c.stakeholder_chat),
        ['stakeholder_chat'],
        `unknown chat "${c.stakeholder_chat}"`,
      );
  });

export type OpsbotConfig = z.output<typeof configSchema>;
export type ChatConfig = z.output<typeof chatSchema>;
export type PersonConfig = z.output<typeof personSchema>;
export type ScheduleConfig = z.output<typeof scheduleSchema>;
export type PolicyConfig = z.output<typeof policySchema>;
export type RouteConfig = z.output<typeof routeSchema>;
export type IntegrationConfig = z.output<typeof integrationSchema>;
export type NotifierConfig = z.output<typeof notifierSchema>;
export type WarRoomConfig = NonNullable<ChatConfig['war_room']>;

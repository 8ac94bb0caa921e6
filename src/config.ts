import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DURATION_HINT, parseDuration } from './duration.js';
import { ConfigError, readConfigText } from './errors.js';
import { SEVERITIES, type Severity } from './domain/severity.js';
import { specProblem } from './matching/re2.js';
import { isTimeZone } from './timezone.js';
import { ROLES, SERVICE_ACCOUNTS } from './domain/people.js';

export { ROLES, roleAtLeast, type Role } from './domain/people.js';

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
const SECRET_HINT = `must be at least ${MIN_SECRET} characters (use a long random value)`;

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

/** Formats a zod path as `a.b[1].c`. */
export function formatPath(p: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of p) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out;
}

/** Turns zod issues into `{path, message}` pairs. */
export function zodIssues(
  err: z.ZodError,
  prefix: PropertyKey[] = [],
): { path: string; message: string }[] {
  return err.issues.map((i) => ({
    path: formatPath([...prefix, ...i.path]) || '(root)',
    message: i.message,
  }));
}

/** Every zod issue as `{path, message}`; an unknown key is named in its path (`chats.ops.colour: unknown key`). */
export function issuesOf(err: z.ZodError): ConfigIssue[] {
  return err.issues.flatMap((i) =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((k) => ({ path: formatPath([...i.path, k]), message: 'unknown key' }))
      : [{ path: formatPath(i.path) || '(root)', message: i.message }],
  );
}

/**
 * Replaces `${NAME}` in every string of a parsed YAML document. A missing variable is a ConfigError,
 * or, when `missing` is given, is recorded there (the string keeps its `${NAME}`) so every one is found.
 */
export function interpolateEnv(
  value: unknown,
  env: NodeJS.ProcessEnv,
  at: PropertyKey[] = [],
  missing?: ConfigIssue[],
  seen?: Map<string, string>,
): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (m, v: string) => {
      const got = env[v];
      if (got === undefined || got === '') {
        const issue = {
          path: formatPath(at) || '(root)',
          message: `environment variable ${v} is not set`,
        };
        if (!missing) throw new ConfigError(`${issue.path}: ${issue.message}`);
        missing.push(issue);
        return m;
      }
      seen?.set(v, got);
      return got;
    });
  }
  if (Array.isArray(value))
    return value.map((v, i) => interpolateEnv(v, env, [...at, i], missing, seen));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolateEnv(v, env, [...at, k], missing, seen)]),
    );
  }
  return value;
}

/** One problem in a config file: where (`a.b[1].c`, or `(root)`) and what. */
export interface ConfigIssue {
  path: string;
  message: string;
}

/**
 * Parses and validates config YAML text, collecting every problem instead of stopping at the first
 * (`opsbot check`): unreadable YAML, every missing `${NAME}`, every schema issue. A path with a
 * missing variable reports only that, not what its `${NAME}` text then fails. References between
 * sections (unknown chat, person, policy...) are checked once the shape is valid.
 */
export function validateConfig(
  text: string,
  env: NodeJS.ProcessEnv = process.env,
): { config: OpsbotConfig; issues: [] } | { config?: undefined; issues: ConfigIssue[] } {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    return {
      issues: [{ path: '(root)', message: `invalid YAML: ${(e as Error).message.split('\n')[0]}` }],
    };
  }
  const missing: ConfigIssue[] = [];
  const seen = new Map<string, string>();
  const result = configSchema.safeParse(interpolateEnv(doc ?? {}, env, [], missing, seen));
  const schemaIssues = result.success
    ? []
    : [
        ...issuesOf(result.error),
        ...crossReferenceIssues(result.error, interpolateEnv(doc ?? {}, env, [], [])),
      ];
  const covered = (p: string) =>
    missing.some((m) => p === m.path || p.startsWith(`${m.path}.`) || p.startsWith(`${m.path}[`));
  const issues = [...missing, ...schemaIssues.filter((i) => !covered(i.path))];
  if (result.success && issues.length === 0) {
    interpolated.set(result.data, seen);
    return { config: result.data, issues: [] };
  }
  return { issues };
}

/**
 * zod runs the cross-reference checks (unknown chat, person, policy...) only once the shape is valid,
 * so a config with both kinds of problem would show the second kind only after the first is fixed.
 * This drops each badly shaped value from a copy of the document and parses again (a few rounds at
 * most), so `opsbot check` reports the reference problems of the rest in the same run.
 */
function crossReferenceIssues(first: z.ZodError, doc: unknown): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const copy: unknown = structuredClone(doc);
  let err = first;
  for (let round = 0; round < 8; round++) {
    const shape = err.issues.filter((i) => i.code !== 'custom');
    if (shape.length === 0) {
      const known = new Set(issuesOf(first).map((i) => `${i.path}\n${i.message}`));
      out.push(...issuesOf(err).filter((i) => !known.has(`${i.path}\n${i.message}`)));
      break;
    }
    let changed = false;
    for (const i of shape) {
      const paths = i.code === 'unrecognized_keys' ? i.keys.map((k) => [...i.path, k]) : [i.path];
      for (const at of paths) changed = dropPath(copy, at) || changed;
    }
    if (!changed) break;
    const again = configSchema.safeParse(copy);
    if (again.success) break;
    err = again.error;
  }
  return out;
}

/** Deletes the mapping entry at `at` inside a plain YAML document; true when one was removed. */
function dropPath(doc: unknown, at: readonly PropertyKey[]): boolean {
  if (at.length === 0) return false;
  let node: unknown = doc;
  for (const k of at.slice(0, -1)) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, k)) return false;
    node = (node as Record<PropertyKey, unknown>)[k];
  }
  const last = at[at.length - 1]!;
  if (node === null || typeof node !== 'object' || !Object.hasOwn(node, last)) return false;
  // list items stay (removing one would shift the indexes the other problems are reported at)
  if (Array.isArray(node)) return false;
  delete (node as Record<PropertyKey, unknown>)[last];
  return true;
}

/** Parses and validates config YAML text. Throws ConfigError naming the first bad path. */
export function parseConfig(
  text: string,
  env: NodeJS.ProcessEnv = process.env,
  file = 'config',
): OpsbotConfig {
  const checked = validateConfig(text, env);
  if (checked.config) return checked.config;
  const first = checked.issues[0]!;
  // invalid YAML names the file; a path problem names the path (the message users already know)
  if (first.message.startsWith('invalid YAML: '))
    throw new ConfigError(`${file}: ${first.message}`);
  throw new ConfigError(`${first.path}: ${first.message}`);
}

/** Reads the config file; relative `runbooks_dir` is resolved against the file's folder. */
export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): OpsbotConfig {
  const text = readConfigText(file, 'config');
  const cfg = parseConfig(text, env, file);
  cfg.runbooks_dir = path.resolve(path.dirname(file), cfg.runbooks_dir);
  return cfg;
}

/** Process settings from the environment (CONTRACT.md). */
export interface EnvSettings {
  botToken: string;
  apiRoot: string;
  redisUrl: string;
  redisPrefix: string;
  /** Redis Cluster seed nodes (`REDIS_CLUSTER_NODES=host:port,...`); unset: one Redis at `redisUrl`. */
  redisClusterNodes?: { host: string; port: number }[];
  /** AUTH password for the cluster nodes (`REDIS_PASSWORD`); a single Redis takes it in `REDIS_URL`. */
  redisPassword?: string;
  configPath: string;
  httpHost: string;
  httpPort: number;
  webhookUrl?: string;
  webhookSecret?: string;
  logLevel: string;
}

function parseNodes(raw: string): { host: string; port: number }[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const m = /^\[?([^\]\s]+?)\]?:(\d{1,5})$/.exec(entry);
      const port = Number(m?.[2]);
      if (!m || port < 1 || port > 65535)
        throw new ConfigError(
          `REDIS_CLUSTER_NODES: expected host:port[,host:port...], got "${entry}"`,
        );
      return { host: m[1]!, port };
    });
}

export function loadEnv(env: NodeJS.ProcessEnv = process.env): EnvSettings {
  const botToken = env.TELEGRAM_BOT_TOKEN;
  if (!botToken) throw new ConfigError('TELEGRAM_BOT_TOKEN: environment variable is required');
  const port = Number(env.HTTP_PORT ?? 8080);
  const webhookUrl = env.WEBHOOK_URL || undefined;
  const webhookSecret = env.TELEGRAM_WEBHOOK_SECRET || undefined;
  if (webhookUrl && !webhookSecret)
    throw new ConfigError(
      'TELEGRAM_WEBHOOK_SECRET: required when WEBHOOK_URL is set (without it every update would be refused)',
    );
  if (webhookSecret && webhookSecret.length < MIN_SECRET)
    throw new ConfigError(`TELEGRAM_WEBHOOK_SECRET: ${SECRET_HINT}`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`HTTP_PORT: expected a port number, got "${env.HTTP_PORT}"`);
  }
  return {
    botToken,
    apiRoot: (env.TELEGRAM_API_ROOT || 'https://api.telegram.org').replace(/\/+$/, ''),
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
    redisPrefix: env.OPSBOT_REDIS_PREFIX || 'opsbot:',
    ...(env.REDIS_CLUSTER_NODES ? { redisClusterNodes: parseNodes(env.REDIS_CLUSTER_NODES) } : {}),
    ...(env.REDIS_PASSWORD ? { redisPassword: env.REDIS_PASSWORD } : {}),
    configPath: env.OPSBOT_CONFIG || './opsbot.yaml',
    httpHost: env.HTTP_HOST || '0.0.0.0',
    httpPort: port,
    webhookUrl,
    webhookSecret,
    logLevel: env.LOG_LEVEL || 'info',
  };
}

/** The `${NAME}` variables each parsed config used, kept beside (not inside) it so no log shows them. */
const interpolated = new WeakMap<OpsbotConfig, ReadonlyMap<string, string>>();

/**
 * Every `${NAME}` interpolated into this config, name → value (empty for a config not made by
 * {@link parseConfig}). Runbook steps never receive these variables and their values are redacted
 * from step output. Never log the result.
 */
export function interpolatedVars(config: OpsbotConfig): ReadonlyMap<string, string> {
  return interpolated.get(config) ?? new Map();
}

export { SERVICE_ACCOUNTS } from './domain/people.js';

/** Config that loads but will not do what it seems to: one line each, logged at start. */
export function configWarnings(c: OpsbotConfig): string[] {
  return Object.entries(c.people)
    .filter(([, p]) => SERVICE_ACCOUNTS.has(p.telegram_id))
    .map(
      ([n, p]) =>
        `people.${n}.telegram_id: ${p.telegram_id} is a Telegram service account that anyone can post as; it is treated as an unlisted viewer`,
    );
}

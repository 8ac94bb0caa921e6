/**
 * Runbook schema: the format of `commands/*.yaml` (CONTRACT.md "Runbooks") plus opsbot's own
 * optional fields. Parsing turns the YAML shape (snake_case, duration strings) into {@link Runbook}
 * (camelCase, milliseconds). Every rule that protects execution is checked here, at load time, so a
 * runbook that loads is safe to render: placeholders name declared params, the program (argv[0]) is
 * never a parameter, defaults satisfy their own enum/pattern and no secret variable is passed through.
 */
import { z } from 'zod';
import { ROLES, type Role } from '../config.js';
import { DURATION_HINT, parseDuration } from '../duration.js';
import {
  compilePattern,
  matchesSomewhere,
  matchesWhole,
  patternProblem,
  replaceEvery,
  specProblem,
  type Pattern,
} from '../matching/re2.js';

/** Runbook ids: lowercase letters, digits and dashes, starting with a letter or digit. */
export const RUNBOOK_ID_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;
/** Parameter names, as used in `{{name}}` and `/run id name=value`. */
export const PARAM_NAME_RE = /^[a-z_][a-z0-9_]*$/;

/** Step timeout when a step gives none. */
export const DEFAULT_STEP_TIMEOUT_MS = 60_000;
/** Longest step timeout a runbook may ask for. */
export const MAX_STEP_TIMEOUT_MS = 3_600_000;
/** How long an approval request stays valid when the runbook gives no `approval_ttl`. */
export const DEFAULT_APPROVAL_TTL_MS = 15 * 60_000;
/** Longest `approval_ttl`. */
export const MAX_APPROVAL_TTL_MS = 86_400_000;

/**
 * Environment variables a runbook may never pass through to its steps: opsbot's own secrets and
 * anything named like a credential. The executor scrubs everything not listed in `env` anyway.
 */
export const FORBIDDEN_ENV = new Set([
  'TELEGRAM_BOT_TOKEN',
  'OPSBOT_API_TOKEN',
  'TELEGRAM_WEBHOOK_SECRET',
  'REDIS_URL',
]);
const SECRET_ENV_RE = /(?:_TOKEN|_SECRET|_KEY|PASSWORD|PASSWD)$/i;

/**
 * Variables that carry or point at credentials. A runbook passing one of them may not let the
 * requester choose where the step connects (the credential would go to any host they name).
 */
export const CREDENTIAL_ENV_RE = /PASS|TOKEN|SECRET|KEY|CREDENTIAL|AUTH|KUBECONFIG|DOCKER_CONFIG/i;
/** Param names that say "where to connect". */
const HOST_PARAM_RE = /host|url|uri|endpoint|addr|server/i;
/** argv options whose next element is a host. */
const HOST_FLAGS = new Set([
  '-h',
  '--host',
  '--hostname',
  '--url',
  '--uri',
  '--server',
  '--endpoint',
  '--address',
  '--addr',
]);

/** `{{name}}` with optional inner spaces; the capture is the trimmed name. */
const PLACEHOLDER_RE = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** Diagnostics only read; remediations change something and normally need approval. */
export type RunbookKind = 'diagnostic' | 'remediation';

/** A declared runbook parameter. `required` is resolved: true when neither given nor defaulted. */
export interface RunbookParam {
  name: string;
  description?: string;
  /** Allowed values; a value must be one of them. */
  enum?: string[];
  /** RE2 regular expression a value must match as a whole; authors anchor it with ^…$. */
  pattern?: string;
  default?: string;
  required: boolean;
}

/** One step: an argv array run without a shell. */
export interface RunbookStep {
  name: string;
  /** argv; `{{param}}` placeholders are replaced inside single elements, never splitting them. */
  run: string[];
  timeoutMs: number;
  continueOnError: boolean;
}

/** A parsed, validated runbook. */
export interface Runbook {
  id: string;
  title: string;
  description: string;
  kind: RunbookKind;
  /** Lowest role that may request a run. */
  role: Role;
  approval: { required: boolean; approvers: 1 | 2 | 3 };
  /** Lowest role whose approval counts (never the requester's own). */
  approveRole: Role;
  /** Lifetime of an approval request. */
  approvalTtlMs: number;
  /** Incident label matchers (`value`, `!=value`, `=~regex`, `!~regex`) suggesting this runbook. */
  match: Record<string, string>;
  params: RunbookParam[];
  steps: RunbookStep[];
  /** Lock name template (may contain `{{param}}`); runs holding the same rendered name never overlap. */
  lock: string;
  /** Names of environment variables passed through to the steps; everything else is scrubbed. */
  env: string[];
  /** Working directory template for the steps (absolute). */
  cwd?: string;
  /** RE2 regular expressions whose matches are replaced by `[redacted]` in step output. */
  redact: string[];
  tags: string[];
  /** File the runbook came from, when loaded from disk. */
  file?: string;
}

/** Names of the `{{placeholders}}` in a template, in order (may repeat). */
export function placeholderNames(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER_RE)].map((m) => m[1]!);
}

/**
 * Replaces each `{{name}}` in one pass with `lookup(name)`. Values are inserted verbatim: a value
 * that itself looks like `{{x}}` or contains `$&` stays as it is.
 */
export function replacePlaceholders(template: string, lookup: (name: string) => string): string {
  return template.replace(PLACEHOLDER_RE, (_m, name: string) => lookup(name));
}

/** True when the template has `{{` that is not part of a well-formed placeholder. */
function hasStrayBraces(template: string): boolean {
  return template.replace(PLACEHOLDER_RE, '').includes('{{');
}

/** Compiles a runbook's `redact` patterns (RE2; linear-time). */
export function compileRedact(rb: Pick<Runbook, 'redact'>): Pattern[] {
  return rb.redact.map((p) => compilePattern(p));
}

/** Replaces every match of the runbook's `redact` patterns in `text` by `[redacted]`. */
export function redactText(text: string, patterns: readonly Pattern[]): string {
  return replaceEvery(text, patterns);
}

/** True when a param value matches its pattern as a whole (RE2; the author anchors it with ^…$). */
export function paramPatternMatches(pattern: string, value: string): boolean {
  return matchesWhole(pattern, value);
}

const text = (what: string) =>
  z
    .string({
      error: (i) =>
        i.input === undefined
          ? `${what} is required`
          : 'expected a string (quote numbers, e.g. "5")',
    })
    .refine((s) => s.trim().length > 0, `${what} must not be empty`);

const scalar = z.string({
  error: (i) =>
    i.input === undefined ? 'required' : 'expected a string (quote numbers and booleans, e.g. "5")',
});

const flag = z.boolean({ error: 'expected true or false' });

function boundedDuration(minMs: number, maxMs: number, range: string) {
  return z.string({ error: DURATION_HINT }).transform((s, ctx) => {
    const ms = parseDuration(s);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: DURATION_HINT });
      return z.NEVER;
    }
    if (ms < minMs || ms > maxMs) {
      ctx.addIssue({ code: 'custom', message: `must be between ${range}` });
      return z.NEVER;
    }
    return ms;
  });
}

/** Roles that may act: viewers never act, so they can neither request nor approve. */
const actingRole = z
  .enum(ROLES, { error: `expected one of ${ROLES.filter((r) => r !== 'viewer').join(', ')}` })
  .refine((r) => r !== 'viewer', 'viewers cannot act; use responder, approver or admin');

const paramSchema = z.strictObject({
  name: z
    .string({ error: 'param name is required' })
    .regex(PARAM_NAME_RE, 'expected a name like service or max_age'),
  description: z.string().optional(),
  enum: z.array(scalar).min(1, 'enum needs at least one value').optional(),
  pattern: z
    .string({ error: 'expected a regular expression string' })
    .superRefine((p, ctx) => {
      const err = patternProblem(p);
      if (err) ctx.addIssue({ code: 'custom', message: err });
      else if (!p.startsWith('^') || !/(?:^|[^\\])(?:\\\\)*\$$/.test(p)) {
        ctx.addIssue({
          code: 'custom',
          message: 'pattern must be anchored: start with ^ and end with $',
        });
      }
    })
    .optional(),
  default: scalar.optional(),
  required: flag.optional(),
});

const stepSchema = z.strictObject({
  name: text('step name'),
  run: z
    .array(scalar, { error: 'expected an argv array like [df, -h, /] (never a shell string)' })
    .min(1, 'run needs at least the program'),
  timeout: boundedDuration(1000, MAX_STEP_TIMEOUT_MS, '1s and 1h').default(DEFAULT_STEP_TIMEOUT_MS),
  continue_on_error: flag.default(false),
});

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name')
  .refine(
    (n) => !FORBIDDEN_ENV.has(n.toUpperCase()) && !SECRET_ENV_RE.test(n),
    'secrets are never passed to steps (names ending in _TOKEN, _SECRET, _KEY or PASSWORD, and opsbot’s own settings)',
  );

const redactPattern = z.string().superRefine((p, ctx) => {
  const err = patternProblem(p);
  if (err) ctx.addIssue({ code: 'custom', message: err });
  else if (matchesSomewhere(p, ''))
    ctx.addIssue({ code: 'custom', message: 'pattern must not match an empty string' });
});

const approvalSchema = z.strictObject({
  required: flag.default(false),
  approvers: z
    .number({ error: 'expected 1, 2 or 3' })
    .int('expected 1, 2 or 3')
    .min(1, 'expected 1, 2 or 3')
    .max(3, 'expected 1, 2 or 3')
    .default(1)
    .transform((n) => n as 1 | 2 | 3),
});

/** The YAML shape of a runbook (before cross-field checks). */
const shapeSchema = z.strictObject({
  id: z
    .string({ error: 'id is required' })
    .regex(RUNBOOK_ID_RE, 'expected lowercase letters, digits and dashes'),
  title: text('title'),
  description: text('description'),
  kind: z
    .enum(['diagnostic', 'remediation'], { error: 'expected diagnostic or remediation' })
    .optional(),
  role: actingRole.default('responder'),
  approval: approvalSchema.default({ required: false, approvers: 1 }),
  approve_role: actingRole.default('approver'),
  approval_ttl: boundedDuration(60_000, MAX_APPROVAL_TTL_MS, '1m and 1d').default(
    DEFAULT_APPROVAL_TTL_MS,
  ),
  match: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a label name'), scalar)
    .default({}),
  params: z.array(paramSchema).max(20, 'at most 20 params').default([]),
  steps: z
    .array(stepSchema, { error: 'expected a list of steps' })
    .min(1, 'at least one step is needed')
    .max(50, 'at most 50 steps'),
  lock: text('lock').optional(),
  env: z.array(envName).default([]),
  cwd: text('cwd').optional(),
  redact: z.array(redactPattern).default([]),
  tags: z
    .array(
      z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a lowercase tag like disk or security'),
    )
    .default([]),
});

type Shape = z.output<typeof shapeSchema>;
type Ctx = z.RefinementCtx;

function checkParams(rb: Shape, ctx: Ctx): void {
  const seen = new Set<string>();
  rb.params.forEach((p, i) => {
    const at = (...rest: (string | number)[]) => ['params', i, ...rest];
    if (seen.has(p.name))
      ctx.addIssue({ code: 'custom', path: at('name'), message: `duplicate param "${p.name}"` });
    seen.add(p.name);
    if (p.enum && p.pattern !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: at('pattern'),
        message: 'use either enum or pattern, not both',
      });
    }
    if (p.required === true && p.default !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: at('required'),
        message: 'a param with a default cannot be required',
      });
    }
    if (p.default === undefined) return;
    if (p.enum && !p.enum.includes(p.default)) {
      ctx.addIssue({
        code: 'custom',
        path: at('default'),
        message: `default must be one of: ${p.enum.join(', ')}`,
      });
    }
    if (
      p.pattern !== undefined &&
      patternProblem(p.pattern) === undefined &&
      !paramPatternMatches(p.pattern, p.default)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: at('default'),
        message: `default must match ${p.pattern}`,
      });
    }
  });
}

function checkTemplate(rb: Shape, template: string, path: (string | number)[], ctx: Ctx): void {
  const params = new Map(rb.params.map((p) => [p.name, p]));
  if (hasStrayBraces(template)) {
    ctx.addIssue({ code: 'custom', path, message: 'malformed placeholder; write {{name}}' });
    return;
  }
  for (const name of placeholderNames(template)) {
    const p = params.get(name);
    if (!p) {
      const known = rb.params.length
        ? `declared: ${rb.params.map((q) => q.name).join(', ')}`
        : 'no params are declared';
      ctx.addIssue({
        code: 'custom',
        path,
        message: `{{${name}}} does not name a declared param (${known})`,
      });
    } else if (p.default === undefined && p.required === false) {
      ctx.addIssue({
        code: 'custom',
        path,
        message: `{{${name}}} uses an optional param without a default; give it a default or make it required`,
      });
    }
  }
}

function checkRunbook(rb: Shape, ctx: Ctx): void {
  checkParams(rb, ctx);
  rb.steps.forEach((s, i) => {
    s.run.forEach((arg, j) => {
      const path = ['steps', i, 'run', j];
      if (j === 0 && arg.includes('{{')) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: 'the program (argv[0]) can never be a parameter',
        });
      } else if (j === 0 && arg.trim() === '') {
        ctx.addIssue({ code: 'custom', path, message: 'the program must not be empty' });
      } else {
        checkTemplate(rb, arg, path, ctx);
      }
    });
  });
  if (rb.lock !== undefined) checkTemplate(rb, rb.lock, ['lock'], ctx);
  if (rb.cwd !== undefined) {
    if (!rb.cwd.startsWith('/'))
      ctx.addIssue({ code: 'custom', path: ['cwd'], message: 'cwd must be an absolute path' });
    else checkTemplate(rb, rb.cwd, ['cwd'], ctx);
  }
  if (rb.approval.approvers > 1 && !rb.approval.required) {
    ctx.addIssue({
      code: 'custom',
      path: ['approval', 'approvers'],
      message: 'approvers only counts when approval.required is true',
    });
  }
  checkCredentialTargets(rb, ctx);
  for (const [label, m] of Object.entries(rb.match)) {
    const err = specProblem(m);
    if (err) ctx.addIssue({ code: 'custom', path: ['match', label], message: err });
  }
}

/** Names of params used where a host or URL goes in some argv element. */
function hostLikeParams(rb: Shape): Set<string> {
  const out = new Set<string>();
  for (const step of rb.steps) {
    step.run.forEach((arg, j) => {
      const names = placeholderNames(arg);
      if (!names.length) return;
      const prev = j > 0 ? step.run[j - 1]! : '';
      const flag = /^(--?[a-z-]+)=/.exec(arg)?.[1];
      const looksHost =
        arg.includes('://') ||
        /@\{\{/.test(arg) ||
        /\}\}:(?:\d|\{\{)/.test(arg) ||
        HOST_FLAGS.has(prev) ||
        (flag !== undefined && HOST_FLAGS.has(flag));
      if (looksHost) for (const n of names) out.add(n);
    });
  }
  return out;
}

/**
 * A runbook that passes a credential in `env` may not take a free-form host or URL: a param named
 * like one, or used where an argv element takes a host or URL, needs an `enum`.
 */
function checkCredentialTargets(rb: Shape, ctx: Ctx): void {
  const cred = rb.env.find((n) => CREDENTIAL_ENV_RE.test(n));
  if (!cred) return;
  const used = hostLikeParams(rb);
  rb.params.forEach((p, i) => {
    if (p.enum) return;
    if (HOST_PARAM_RE.test(p.name) || used.has(p.name)) {
      ctx.addIssue({
        code: 'custom',
        path: ['params', i],
        message: `"${p.name}" is a free-form host or URL while env passes the credential ${cred}; list the allowed targets in an enum`,
      });
    }
  });
}

function toRunbook(rb: Shape): Runbook {
  const out: Runbook = {
    id: rb.id,
    title: rb.title.trim(),
    description: rb.description.trim(),
    kind: rb.kind ?? (rb.approval.required ? 'remediation' : 'diagnostic'),
    role: rb.role,
    approval: { required: rb.approval.required, approvers: rb.approval.approvers },
    approveRole: rb.approve_role,
    approvalTtlMs: rb.approval_ttl,
    match: rb.match,
    params: rb.params.map((p) => {
      const param: RunbookParam = { name: p.name, required: p.required ?? p.default === undefined };
      if (p.description !== undefined) param.description = p.description;
      if (p.enum !== undefined) param.enum = p.enum;
      if (p.pattern !== undefined) param.pattern = p.pattern;
      if (p.default !== undefined) param.default = p.default;
      return param;
    }),
    steps: rb.steps.map((s) => ({
      name: s.name.trim(),
      run: s.run,
      timeoutMs: s.timeout,
      continueOnError: s.continue_on_error,
    })),
    lock: rb.lock ?? rb.id,
    env: rb.env,
    redact: rb.redact,
    tags: rb.tags,
  };
  if (rb.cwd !== undefined) out.cwd = rb.cwd;
  return out;
}

/** zod schema of one runbook document; parses to {@link Runbook}. */
export const runbookSchema = shapeSchema.superRefine(checkRunbook).transform(toRunbook);

/** The YAML (input) shape of a runbook, e.g. for tests and tooling. */
export type RunbookInput = z.input<typeof runbookSchema>;

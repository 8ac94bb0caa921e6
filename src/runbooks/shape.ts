/** The YAML shape of a runbook document, field by field (cross-field rules are in ./checks.ts). */
import { z } from 'zod';
import { ROLES } from '../domain/people.js';
import { DURATION_HINT, parseDuration } from '../duration.js';
import { matchesSomewhere, patternProblem } from '../matching/re2.js';
import {
  DEFAULT_APPROVAL_TTL_MS,
  DEFAULT_STEP_TIMEOUT_MS,
  FORBIDDEN_ENV,
  MAX_APPROVAL_TTL_MS,
  MAX_STEP_TIMEOUT_MS,
  PARAM_NAME_RE,
  RUNBOOK_ID_RE,
  SECRET_ENV_RE,
} from './model.js';

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
export const shapeSchema = z.strictObject({
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

export type Shape = z.output<typeof shapeSchema>;

/**
 * Cross-field rules of a runbook, checked at load time so a runbook that loads is safe to render:
 * placeholders name declared params, the program (argv[0]) is never a parameter, defaults satisfy
 * their own enum/pattern, and a credential passed in `env` never goes to a host the requester names.
 */
import type { z } from 'zod';
import { patternProblem, specProblem } from '../matching/re2.js';
import {
  CREDENTIAL_ENV_RE,
  hasStrayBraces,
  paramPatternMatches,
  placeholderNames,
  type Runbook,
  type RunbookParam,
} from './model.js';
import type { Shape } from './shape.js';

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

export function checkRunbook(rb: Shape, ctx: Ctx): void {
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

/** The parsed runbook of a checked document. */
export function toRunbook(rb: Shape): Runbook {
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

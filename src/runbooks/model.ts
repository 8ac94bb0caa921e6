/**
 * Runbooks as opsbot runs them: the parsed {@link Runbook} (camelCase, milliseconds), the limits of
 * the format, and the placeholder, pattern and redaction helpers the loader and the executor share.
 */
import type { Role } from '../domain/people.js';
import { compilePattern, matchesWhole, replaceEvery, type Pattern } from '../matching/re2.js';

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
/** Names of variables that hold secrets. */
export const SECRET_ENV_RE = /(?:_TOKEN|_SECRET|_KEY|PASSWORD|PASSWD)$/i;

/**
 * Variables that carry or point at credentials. A runbook passing one of them may not let the
 * requester choose where the step connects (the credential would go to any host they name).
 */
export const CREDENTIAL_ENV_RE = /PASS|TOKEN|SECRET|KEY|CREDENTIAL|AUTH|KUBECONFIG|DOCKER_CONFIG/i;

/** `{{name}}` with optional inner spaces; the capture is the trimmed name. */
export const PLACEHOLDER_RE = /\{\{\s*([^{}]*?)\s*\}\}/g;

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
export function hasStrayBraces(template: string): boolean {
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

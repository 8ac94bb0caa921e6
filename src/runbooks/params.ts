/**
 * `/run` argument handling: tokenising the chat text, checking values against the runbook's
 * declared params, and rendering argv. Values are only ever placed inside single argv elements;
 * nothing is split, joined or handed to a shell, so shell syntax in a value is inert text.
 */
import { createHash } from 'node:crypto';
import { ValidationError } from '../errors.js';
import {
  PARAM_NAME_RE,
  RUNBOOK_ID_RE,
  paramPatternMatches,
  replacePlaceholders,
  type Runbook,
  type RunbookParam,
} from './model.js';

/** Longest accepted parameter value, in characters. */
export const MAX_PARAM_VALUE_LENGTH = 256;

/** Opening quote → closing quote. Smart quotes are what phone keyboards send for " and '. */
const QUOTES: Record<string, string> = {
  '"': '"',
  "'": "'",
  '\u201c': '\u201d',
  '\u2018': '\u2019',
};
const DOUBLE_CLOSERS = new Set(['"', '\u201d']);

/** C0 controls (NUL, tab, newline, CR, …), DEL and the Unicode line/paragraph separators. */
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f\u2028\u2029]/;

/**
 * Characters that make a value read differently from what runs: bidi embeddings, overrides and
 * isolates (U+202A–U+202E, U+2066–U+2069), zero-width characters (U+200B–U+200D, U+2060), C1
 * controls (U+0080–U+009F) and the byte order mark (U+FEFF).
 */
const INVISIBLE_RE = /[\u0080-\u009f\u200b-\u200d\u2060\u202a-\u202e\u2066-\u2069\ufeff]/;

/**
 * Splits `/run` arguments on whitespace. Double and single quotes group words and may sit inside
 * a token (`reason="disk full"` → `reason=disk full`); inside double quotes `\"` and `\\` are
 * escapes; single quotes take everything literally. Smart quotes (“…”, ‘…’) work like " and '.
 * An unclosed quote is a ValidationError.
 */
export function tokenizeArgs(text: string): string[] {
  const chars = [...text];
  const out: string[] = [];
  let cur = '';
  let inToken = false;
  let quote: { open: string; close: string; at: number } | undefined;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (quote) {
      if (c === quote.close) {
        quote = undefined;
      } else if (
        c === '\\' &&
        DOUBLE_CLOSERS.has(quote.close) &&
        (chars[i + 1] === quote.close || chars[i + 1] === '\\')
      ) {
        cur += chars[++i]!;
      } else {
        cur += c;
      }
      continue;
    }
    if (/\s/u.test(c)) {
      if (inToken) out.push(cur);
      cur = '';
      inToken = false;
      continue;
    }
    inToken = true;
    const close = QUOTES[c];
    if (close) quote = { open: c, close, at: i + 1 };
    else cur += c;
  }
  if (quote) {
    const message = `unclosed ${quote.open} quote (opened at character ${quote.at})`;
    throw new ValidationError(message, [{ path: 'args', message }]);
  }
  if (inToken) out.push(cur);
  return out;
}

/**
 * Parses the text after `/run`: the runbook id, then `key=value` pairs. A leading `/run` or
 * `/run@bot` token is tolerated. Throws ValidationError for a missing/invalid id, a token without
 * `=`, a bad key or a key given twice.
 */
export function parseRunArgs(text: string): { id: string; values: Record<string, string> } {
  const tokens = tokenizeArgs(text);
  if (tokens[0] !== undefined && /^\/run(?:@\w+)?$/i.test(tokens[0])) tokens.shift();
  const first = tokens.shift();
  if (first === undefined) {
    const message = 'expected a runbook id: /run <id> [key=value ...]';
    throw new ValidationError(message, [{ path: 'id', message }]);
  }
  const id = first.toLowerCase();
  if (!RUNBOOK_ID_RE.test(id)) {
    const message = `"${preview(first)}" is not a runbook id (lowercase letters, digits and dashes)`;
    throw new ValidationError(message, [{ path: 'id', message }]);
  }
  const values = new Map<string, string>();
  const issues: { path: string; message: string }[] = [];
  for (const tok of tokens) {
    const eq = tok.indexOf('=');
    if (eq <= 0) {
      issues.push({ path: preview(tok), message: `expected key=value, got "${preview(tok)}"` });
      continue;
    }
    const key = tok.slice(0, eq);
    if (!PARAM_NAME_RE.test(key)) {
      issues.push({
        path: preview(key),
        message: 'expected a parameter name like service or max_age',
      });
    } else if (values.has(key)) {
      issues.push({ path: key, message: 'given more than once' });
    } else {
      values.set(key, tok.slice(eq + 1));
    }
  }
  if (issues.length)
    throw new ValidationError(summary(`invalid arguments for ${id}`, issues), issues);
  return { id, values: Object.fromEntries(values) };
}

/** What a param accepts, for messages: the enum list, the pattern, or the free-text rules. */
export function describeAllowed(p: RunbookParam): string {
  if (p.enum) return `one of: ${p.enum.join(', ')}`;
  if (p.pattern !== undefined) return `must match ${p.pattern}`;
  return `free text, at most ${MAX_PARAM_VALUE_LENGTH} characters, not starting with "-"`;
}

function preview(v: string): string {
  return v.length > 40 ? `${v.slice(0, 40)}…` : v;
}

function summary(head: string, issues: { path: string; message: string }[]): string {
  return `${head}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`;
}

/** Checks one user-supplied value; returns the problem or undefined. */
function valueProblem(p: RunbookParam, v: string): string | undefined {
  if (v === '') return `must not be empty (${describeAllowed(p)})`;
  if (v.length > MAX_PARAM_VALUE_LENGTH) {
    return `too long: ${v.length} characters, at most ${MAX_PARAM_VALUE_LENGTH}`;
  }
  if (CONTROL_RE.test(v))
    return 'must not contain control characters (NUL, newline, carriage return, tab)';
  if (INVISIBLE_RE.test(v)) {
    const c = INVISIBLE_RE.exec(v)![0].codePointAt(0)!;
    const code = `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
    return `must not contain invisible or direction-changing characters (found ${code}: bidi override, zero-width character, C1 control or byte order mark)`;
  }
  if (p.enum)
    return p.enum.includes(v) ? undefined : `"${preview(v)}" is not allowed; ${describeAllowed(p)}`;
  if (p.pattern !== undefined) {
    // A value the author's pattern accepts is fine even when it starts with "-".
    return paramPatternMatches(p.pattern, v)
      ? undefined
      : `"${preview(v)}" is not allowed; ${describeAllowed(p)}`;
  }
  if (v.startsWith('-')) return 'must not start with "-" (it could be read as an option)';
  return undefined;
}

/**
 * Checks `/run` values against the runbook's params and fills in defaults. Unknown keys, missing
 * required params, values outside the enum or not matching the pattern, empty or over-long values,
 * control characters and (without a pattern that accepts it) a leading `-` are rejected together in
 * one ValidationError whose `issues` name each param and what it accepts.
 */
export function resolveParams(rb: Runbook, values: Record<string, string>): Record<string, string> {
  const declared = new Map(rb.params.map((p) => [p.name, p]));
  const issues: { path: string; message: string }[] = [];
  for (const key of Object.keys(values)) {
    if (!declared.has(key)) {
      const known = rb.params.length
        ? `known: ${rb.params.map((p) => p.name).join(', ')}`
        : 'this runbook takes no parameters';
      issues.push({ path: preview(key), message: `unknown parameter; ${known}` });
    }
  }
  const out = new Map<string, string>();
  for (const p of rb.params) {
    if (!Object.hasOwn(values, p.name)) {
      if (p.default !== undefined) out.set(p.name, p.default);
      else if (p.required)
        issues.push({ path: p.name, message: `required; ${describeAllowed(p)}` });
      continue;
    }
    const v: unknown = values[p.name];
    const problem = typeof v === 'string' ? valueProblem(p, v) : 'expected text';
    if (problem) issues.push({ path: p.name, message: problem });
    else out.set(p.name, v as string);
  }
  if (issues.length)
    throw new ValidationError(summary(`invalid parameters for ${rb.id}`, issues), issues);
  return Object.fromEntries(out);
}

/**
 * Replaces each `{{name}}` in `template` with `params[name]` (one pass; values are inserted
 * verbatim). A placeholder without a value is a ValidationError.
 */
export function renderTemplate(template: string, params: Record<string, string>): string {
  return replacePlaceholders(template, (name) => {
    const v = Object.hasOwn(params, name) ? params[name] : undefined;
    if (typeof v !== 'string') {
      const message = `no value for {{${name}}}`;
      throw new ValidationError(message, [{ path: name, message }]);
    }
    return v;
  });
}

/**
 * Renders every step's argv with resolved params. Each argv element stays exactly one element:
 * `a; rm -rf /` as a value is one argument, never a command.
 */
export function renderArgv(rb: Runbook, params: Record<string, string>): string[][] {
  return rb.steps.map((s) => s.run.map((arg) => renderTemplate(arg, params)));
}

/** sha256 (hex) of the params as canonical JSON (keys sorted); identifies "the same run" for approvals. */
export function paramsHash(params: Record<string, string>): string {
  const sorted = Object.fromEntries(
    Object.keys(params)
      .sort()
      .map((k) => [k, params[k]]),
  );
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}

/**
 * The one place opsbot compiles and runs a regular expression that comes from config, a chat or a
 * runbook. Everything goes through RE2 (`re2js`, a pure-JS port): matching is linear in the input, so
 * no pattern can freeze the process, and the syntax is the one Alertmanager and Prometheus use, so
 * `=~` means the same in opsbot as in the Alertmanager beside it. Lookarounds and backreferences do
 * not exist in RE2 and are refused when the pattern is compiled.
 *
 * Label matchers (routes, silences, maintenance, runbook `match`) are written in their stored form:
 * `value` (equal), `!=value`, `=~re` or `!~re`. Regexes are anchored at both ends, as in Alertmanager
 * (`=~api-.*` matches `api-gw`, not `xapi-gw`). A missing label is the empty string.
 */
import { RE2JS } from 're2js';

/** Longest pattern accepted anywhere (routes, silences, runbook `pattern` and `redact`). */
export const MAX_PATTERN_LENGTH = 256;
/**
 * Longest label value a regex matcher looks at. A longer value never satisfies a regex matcher
 * (`=~` or `!~`): a route or silence using one simply does not apply, so the alert is delivered.
 * Equality matchers compare the whole value.
 */
export const MAX_LABEL_VALUE_LENGTH = 1024;

/** A compiled RE2 pattern. */
export type Pattern = RE2JS;

/** A pattern that cannot be used; the message says why, for config paths and chat replies. */
export class PatternError extends Error {
  override name = 'PatternError';
}

const CACHE_MAX = 512;
const cache = new Map<string, RE2JS>();

/** Compiles an RE2 pattern (cached). Throws {@link PatternError} for a too long or invalid one. */
export function compilePattern(source: string): Pattern {
  const hit = cache.get(source);
  if (hit) return hit;
  if (source.length > MAX_PATTERN_LENGTH)
    throw new PatternError(
      `regular expression is ${source.length} characters long; at most ${MAX_PATTERN_LENGTH}`,
    );
  let re: RE2JS;
  try {
    re = RE2JS.compile(source);
  } catch (e) {
    const why = String((e as Error).message ?? e).replace(/^error parsing regexp: /, '');
    throw new PatternError(`invalid regular expression (RE2 syntax): ${why}`);
  }
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
  cache.set(source, re);
  return re;
}

/** Why a pattern cannot be used, or undefined when it compiles. */
export function patternProblem(source: string): string | undefined {
  try {
    compilePattern(source);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** True when the pattern matches the whole of `value` (runbook `pattern`s carry their own ^…$). */
export function matchesWhole(pattern: string | Pattern, value: string): boolean {
  return (typeof pattern === 'string' ? compilePattern(pattern) : pattern).testExact(value);
}

/** True when the pattern matches somewhere in `value`. */
export function matchesSomewhere(pattern: string | Pattern, value: string): boolean {
  return (typeof pattern === 'string' ? compilePattern(pattern) : pattern).test(value);
}

/** Replaces every match of every pattern in `text` by `replacement` (taken literally). */
export function replaceEvery(
  text: string,
  patterns: readonly Pattern[],
  replacement = '[redacted]',
): string {
  let out = text;
  for (const re of patterns) out = re.matcher(out).replaceAll(() => replacement);
  return out;
}

export type MatchOp = '=' | '!=' | '=~' | '!~';

/** Splits a stored matcher spec (`v`, `!=v`, `=~re`, `!~re`) into operator and operand. */
export function parseSpec(spec: string): { op: MatchOp; value: string } {
  for (const op of ['=~', '!~', '!='] as const)
    if (spec.startsWith(op)) return { op, value: spec.slice(2) };
  return { op: '=', value: spec };
}

/** The stored spec of an operator and operand. */
export function toSpec(op: MatchOp, value: string): string {
  return op === '=' ? value : `${op}${value}`;
}

/** Why a matcher spec cannot be used (a bad or too long regex), or undefined. */
export function specProblem(spec: string): string | undefined {
  const { op, value } = parseSpec(spec);
  return op === '=~' || op === '!~' ? patternProblem(value) : undefined;
}

/** Whether one matcher spec holds for a label value (a missing label is ""). Regexes are fully anchored. */
export function matchSpec(spec: string, value: string): boolean {
  const { op, value: v } = parseSpec(spec);
  switch (op) {
    case '=':
      return value === v;
    case '!=':
      return value !== v;
    case '=~':
    case '!~':
      if (value.length > MAX_LABEL_VALUE_LENGTH) return false;
      return matchesWhole(compilePattern(v), value) === (op === '=~');
  }
}

/**
 * True when every matcher holds for the labels (own properties only: `constructor` is just a
 * missing label). No matchers: true.
 */
export function matchLabels(
  match: Record<string, string> | undefined,
  labels: Record<string, string>,
): boolean {
  if (!match) return true;
  for (const [k, spec] of Object.entries(match)) {
    const v = Object.hasOwn(labels, k) ? String(labels[k]) : '';
    if (!matchSpec(spec, v)) return false;
  }
  return true;
}

/**
 * True when the matcher cannot hold for a missing label: an equality on a non-empty value, `=~re`
 * where re rejects "", or `!~re` where re matches "". `!=` never qualifies.
 */
export function rejectsEmpty(spec: string): boolean {
  return !matchSpec(spec, '');
}

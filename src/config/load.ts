import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError, readConfigText } from '../errors.js';
import { SERVICE_ACCOUNTS } from '../domain/people.js';
import { configSchema, type OpsbotConfig } from './schema.js';

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

const interpolated = new WeakMap<OpsbotConfig, ReadonlyMap<string, string>>();

/**
 * Every `${NAME}` interpolated into this config, name → value (empty for a config not made by
 * {@link parseConfig}). Runbook steps never receive these variables and their values are redacted
 * from step output. Never log the result.
 */
export function interpolatedVars(config: OpsbotConfig): ReadonlyMap<string, string> {
  return interpolated.get(config) ?? new Map();
}

/** Config that loads but will not do what it seems to: one line each, logged at start. */
export function configWarnings(c: OpsbotConfig): string[] {
  return Object.entries(c.people)
    .filter(([, p]) => SERVICE_ACCOUNTS.has(p.telegram_id))
    .map(
      ([n, p]) =>
        `people.${n}.telegram_id: ${p.telegram_id} is a Telegram service account that anyone can post as; it is treated as an unlisted viewer`,
    );
}

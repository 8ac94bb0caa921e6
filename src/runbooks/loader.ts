/**
 * Loads runbooks from `commands/*.yaml`. Any problem stops the load with a ConfigError naming the
 * file, the path inside it and the problem: `commands/disk-cleanup.yaml: steps[0].run: ...`.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { issuesOf } from '../config.js';
import { ConfigError, readConfigText } from '../errors.js';
import { runbookSchema, type Runbook } from './schema.js';

/** Options of {@link parseRunbook}, {@link checkRunbook} and {@link loadRunbooks}. */
export interface RunbookLoadOptions {
  /** Variable names no runbook may list in `env`: every `${NAME}` of the opsbot config. */
  reservedEnv?: ReadonlySet<string>;
}

/** A problem in one runbook file; `path` is inside the document (absent for file-level problems). */
export interface RunbookIssue {
  file: string;
  path?: string;
  message: string;
}

/** `file: path: message` (or `file: message`), the form every runbook error is shown in. */
export function formatRunbookIssue(i: RunbookIssue): string {
  return i.path ? `${i.file}: ${i.path}: ${i.message}` : `${i.file}: ${i.message}`;
}

/** Parses and validates one runbook document, collecting every problem. */
export function checkRunbook(
  text: string,
  file: string,
  opts: RunbookLoadOptions = {},
): { runbook: Runbook; issues: [] } | { runbook?: undefined; issues: RunbookIssue[] } {
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (e) {
    return { issues: [{ file, message: `invalid YAML: ${(e as Error).message.split('\n')[0]}` }] };
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return {
      issues: [
        {
          file,
          path: '(root)',
          message: 'expected a runbook mapping with id, title, description and steps',
        },
      ],
    };
  }
  const result = runbookSchema.safeParse(doc);
  if (!result.success) return { issues: issuesOf(result.error).map((i) => ({ file, ...i })) };
  const reserved = opts.reservedEnv;
  const i = reserved ? result.data.env.findIndex((n) => reserved.has(n)) : -1;
  if (i >= 0)
    return {
      issues: [
        {
          file,
          path: `env[${i}]`,
          message: `${result.data.env[i]} is interpolated into the opsbot config (one of its secrets); steps never receive it`,
        },
      ],
    };
  return { runbook: { ...result.data, file }, issues: [] };
}

/**
 * Parses and validates one runbook document. `file` is used in error messages and kept on the
 * result. Throws ConfigError `<file>: <path>: <problem>`.
 */
export function parseRunbook(text: string, file: string, opts: RunbookLoadOptions = {}): Runbook {
  const checked = checkRunbook(text, file, opts);
  if (!checked.runbook) throw new ConfigError(formatRunbookIssue(checked.issues[0]!));
  return checked.runbook;
}

/**
 * Reads every `*.yaml` / `*.yml` file in `dir` (sorted by name) and validates each, collecting every
 * problem (`opsbot check`); a duplicate id names both files.
 */
export function checkRunbookDir(
  dir: string,
  opts: RunbookLoadOptions = {},
): {
  runbooks: Map<string, Runbook>;
  issues: RunbookIssue[];
} {
  const byId = new Map<string, Runbook>();
  const issues: RunbookIssue[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    issues.push({
      file: dir,
      message: `cannot read runbooks directory: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
    });
    return { runbooks: byId, issues };
  }
  const files = names
    .filter((n) => /\.ya?ml$/i.test(n) && !n.startsWith('.'))
    .sort()
    .map((n) => path.join(dir, n))
    .filter((f) => statSync(f).isFile());
  for (const file of files) {
    let text: string;
    try {
      text = readConfigText(file, 'runbook');
    } catch (e) {
      issues.push({ file, message: (e as Error).message.slice(file.length + 2) });
      continue;
    }
    const checked = checkRunbook(text, file, opts);
    if (!checked.runbook) {
      issues.push(...checked.issues);
      continue;
    }
    const rb = checked.runbook;
    const earlier = byId.get(rb.id);
    if (earlier)
      issues.push({
        file,
        path: 'id',
        message: `duplicate runbook id "${rb.id}" (also in ${earlier.file})`,
      });
    else byId.set(rb.id, rb);
  }
  return { runbooks: byId, issues };
}

/**
 * Reads every `*.yaml` / `*.yml` file in `dir` (sorted by name) and returns the runbooks by id.
 * Stops at the first problem with a ConfigError; a duplicate id names both files.
 */
export function loadRunbooks(dir: string, opts: RunbookLoadOptions = {}): Map<string, Runbook> {
  const { runbooks, issues } = checkRunbookDir(dir, opts);
  if (issues.length) throw new ConfigError(formatRunbookIssue(issues[0]!));
  return runbooks;
}

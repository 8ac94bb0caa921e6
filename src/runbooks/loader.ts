/**
 * Loads runbooks from `commands/*.yaml`. Any problem stops the load with a ConfigError naming the
 * file, the path inside it and the problem: `commands/disk-cleanup.yaml: steps[0].run: ...`.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { formatPath } from '../config.js';
import { ConfigError, readConfigText } from '../errors.js';
import { runbookSchema, type Runbook } from './schema.js';

/** Options of {@link parseRunbook} and {@link loadRunbooks}. */
export interface RunbookLoadOptions {
  /** Variable names no runbook may list in `env`: every `${NAME}` of the opsbot config. */
  reservedEnv?: ReadonlySet<string>;
}

function firstIssue(err: z.ZodError): string {
  const issue = err.issues[0]!;
  let at: PropertyKey[] = issue.path;
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    at = [...issue.path, issue.keys[0]!];
    message = 'unknown key';
  }
  return `${formatPath(at) || '(root)'}: ${message}`;
}

/**
 * Parses and validates one runbook document. `file` is used in error messages and kept on the
 * result. Throws ConfigError `<file>: <path>: <problem>`.
 */
export function parseRunbook(text: string, file: string, opts: RunbookLoadOptions = {}): Runbook {
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (e) {
    throw new ConfigError(`${file}: invalid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError(
      `${file}: (root): expected a runbook mapping with id, title, description and steps`,
    );
  }
  const result = runbookSchema.safeParse(doc);
  if (!result.success) throw new ConfigError(`${file}: ${firstIssue(result.error)}`);
  const reserved = opts.reservedEnv;
  const i = reserved ? result.data.env.findIndex((n) => reserved.has(n)) : -1;
  if (i >= 0)
    throw new ConfigError(
      `${file}: env[${i}]: ${result.data.env[i]} is interpolated into the opsbot config (one of its secrets); steps never receive it`,
    );
  return { ...result.data, file };
}

/**
 * Reads every `*.yaml` / `*.yml` file in `dir` (sorted by name) and returns the runbooks by id.
 * Stops at the first problem with a ConfigError; a duplicate id names both files.
 */
export function loadRunbooks(dir: string, opts: RunbookLoadOptions = {}): Map<string, Runbook> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new ConfigError(
      `${dir}: cannot read runbooks directory: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
    );
  }
  const files = names
    .filter((n) => /\.ya?ml$/i.test(n) && !n.startsWith('.'))
    .sort()
    .map((n) => path.join(dir, n))
    .filter((f) => statSync(f).isFile());
  const byId = new Map<string, Runbook>();
  for (const file of files) {
    const text = readConfigText(file, 'runbook');
    const rb = parseRunbook(text, file, opts);
    const earlier = byId.get(rb.id);
    if (earlier)
      throw new ConfigError(
        `${file}: id: duplicate runbook id "${rb.id}" (also in ${earlier.file})`,
      );
    byId.set(rb.id, rb);
  }
  return byId;
}

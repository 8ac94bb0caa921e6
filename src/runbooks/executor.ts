import { replaceEvery, type Pattern } from '../matching/re2.js';
import { signalGroup } from './procs.js';

/** One step to run: an argv array (never a shell string). */
export interface ExecStep {
  name: string;
  argv: string[];
  timeoutMs: number;
  continueOnError?: boolean;
}

export type StepStatus =
  'pending' | 'running' | 'ok' | 'failed' | 'timeout' | 'skipped' | 'cancelled';

export interface StepResult {
  name: string;
  status: StepStatus;
  exitCode?: number;
  durationMs?: number;
  /** The last lines of the step's output, redacted and trimmed. */
  output: string;
}

export interface RunResult {
  status: 'ok' | 'failed' | 'timeout' | 'cancelled';
  steps: StepResult[];
  /** Full redacted output of all steps, capped at maxOutputBytes (the tail is kept). */
  output: string;
  durationMs: number;
}

export interface ExecOptions {
  /** The only environment the steps see, besides PATH, HOME and LANG. */
  env?: Record<string, string>;
  cwd?: string;
  /** Compiled RE2 patterns (src/matching/re2.ts) whose matches become `[redacted]`. */
  redact?: Pattern[];
  maxOutputBytes?: number;
  tailLines?: number;
  signal?: AbortSignal;
  onProgress?: (steps: StepResult[], current: number) => void;
  progressIntervalMs?: number;
  now?: () => number;
  /**
   * Literal values (opsbot's tokens, every `${VAR}` of the config) replaced by `[redacted]` wherever
   * they appear in the output; values shorter than {@link MIN_SECRET_LENGTH} are ignored.
   */
  secrets?: readonly string[];
  /** A step's process group started (pgid = pid); called before any output is read. */
  onSpawn?: (pgid: number, step: number) => void;
  /** That step's leader exited and was reaped: its pid must never be signalled again. */
  onExit?: (pgid: number, step: number) => void;
  /** Time between SIGTERM and SIGKILL on timeout or cancel (default 2 s). */
  killGraceMs?: number;
  /** Longest kept line; a longer line without a newline is cut with a marker (default 64 KiB). */
  maxLineBytes?: number;
}

/** Secret values shorter than this are not redacted (they would blank ordinary words). */
export const MIN_SECRET_LENGTH = 6;
/** Default cap of one output line (a step printing without newlines cannot grow memory). */
export const MAX_LINE_BYTES = 64 * 1024;
/** Appended to a line cut at the cap. */
export const LINE_CUT_MARKER = ' … [line cut at 64 KiB]';

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;

/** Replaces every match of the patterns (RE2, linear-time) by `[redacted]`. */
export function redactText(text: string, patterns: readonly Pattern[]): string {
  return replaceEvery(text, patterns);
}

/** Replaces every occurrence of each literal secret (longest first) by `[redacted]`. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const v of secrets) if (out.includes(v)) out = out.split(v).join('[redacted]');
  return out;
}

/**
 * Runs steps in order with execa: no shell, a scrubbed environment, each step in its own process
 * group so a timeout or cancel kills the whole tree, output redacted line by line before it is kept.
 */
export async function runSteps(steps: ExecStep[], opts: ExecOptions = {}): Promise<RunResult> {
  const now = opts.now ?? Date.now;
  const patterns = opts.redact ?? [];
  const secrets = [...new Set(opts.secrets ?? [])]
    .filter((v) => v.length >= MIN_SECRET_LENGTH)
    .sort((a, b) => b.length - a.length);
  const clean = (line: string) => redactText(redactSecrets(line, secrets), patterns);
  const maxLine = opts.maxLineBytes ?? MAX_LINE_BYTES;
  const killGrace = opts.killGraceMs ?? 2000;
  const maxOut = opts.maxOutputBytes ?? 64 * 1024;
  const tailN = opts.tailLines ?? 10;
  const interval = opts.progressIntervalMs ?? 1000;
  const baseEnv: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'LANG']) if (process.env[k]) baseEnv[k] = process.env[k]!;
  const env = { ...baseEnv, ...(opts.env ?? {}) };
  const results: StepResult[] = steps.map((s) => ({ name: s.name, status: 'pending', output: '' }));
  let full = '';
  let trimmed = 0;
  const keep = (line: string) => {
    full += `${line}\n`;
    if (full.length > maxOut) {
      trimmed += full.length - maxOut;
      full = full.slice(full.length - maxOut);
    }
  };
  const started = now();
  let overall: RunResult['status'] = 'ok';
  let lastProgress = 0;
  const progress = (i: number, force = false) => {
    if (!opts.onProgress) return;
    const t = now();
    if (!force && t - lastProgress < interval) return;
    lastProgress = t;
    opts.onProgress(
      results.map((r) => ({ ...r })),
      i,
    );
  };

  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    const res = results[i]!;
    if (overall !== 'ok' || opts.signal?.aborted) {
      res.status = opts.signal?.aborted ? 'cancelled' : 'skipped';
      continue;
    }
    res.status = 'running';
    progress(i, true);
    keep(clean(`$ ${step.argv.join(' ')}`));
    const lines: string[] = [];
    let partial = '';
    // true while dropping the rest of a line already cut at maxLine
    let skipping = false;
    const emit = (raw: string, cut = false) => {
      const line = clean(raw).slice(0, 2000) + (cut ? LINE_CUT_MARKER : '');
      lines.push(line);
      if (lines.length > tailN) lines.shift();
      keep(line);
    };
    const onText = (chunk: string) => {
      const parts = (partial + chunk).split(/\r?\n/);
      partial = parts.pop() ?? '';
      for (const raw of parts) {
        if (skipping) skipping = false;
        else emit(raw.replace(ANSI, ''));
      }
      if (skipping) partial = '';
      else if (partial.length > maxLine) {
        emit(partial.slice(0, maxLine).replace(ANSI, ''), true);
        partial = '';
        skipping = true;
      }
      res.output = lines.map((l) => l.slice(0, 300)).join('\n');
      progress(i);
    };
    const t0 = now();
    let timedOut = false;
    let cancelled = false;
    const [file, ...args] = step.argv;
    // loaded on the first run, not at start: most replicas never execute a step
    const { execa } = await import('execa');
    const child = execa(file ?? '', args, {
      shell: false,
      stdin: 'ignore',
      reject: false,
      all: true,
      extendEnv: false,
      env,
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
      detached: true,
      cleanup: true,
      encoding: 'utf8',
      buffer: false,
    });
    child.all?.setEncoding('utf8');
    child.all?.on('data', (d: string) => onText(d));
    const pgid = child.pid;
    let exited = pgid === undefined;
    let killTimer: NodeJS.Timeout | undefined;
    // the leader is reaped when 'exit' fires: from then on its pid is never signalled again
    child.once('exit', () => {
      exited = true;
      if (killTimer) clearTimeout(killTimer);
      if (pgid !== undefined) opts.onExit?.(pgid, i);
    });
    if (pgid !== undefined) opts.onSpawn?.(pgid, i);
    const signalLeader = (signal: NodeJS.Signals) => {
      if (exited || pgid === undefined) return;
      try {
        process.kill(-pgid, signal);
      } catch {
        /* the group is gone */
      }
    };
    const stop = (why: 'timeout' | 'cancel') => {
      if (why === 'timeout') timedOut = true;
      else cancelled = true;
      signalLeader('SIGTERM');
      // not unref'd: a shutdown waits for the run, so the follow-up SIGKILL fires before exit
      killTimer ??= setTimeout(() => signalLeader('SIGKILL'), killGrace);
    };
    const timer = setTimeout(() => stop('timeout'), step.timeoutMs);
    const onAbort = () => stop('cancel');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) onAbort();
    const r = await child;
    clearTimeout(timer);
    if (killTimer) clearTimeout(killTimer);
    opts.signal?.removeEventListener('abort', onAbort);
    // what the leader left behind in its group (e.g. a backgrounded child) dies with the step; the
    // group is signalled only while it has members, so its id cannot have been reused
    if (pgid !== undefined) signalGroup(pgid, 'SIGKILL');
    if (partial && !skipping) onText('\n');
    res.durationMs = now() - t0;
    const code = typeof r.exitCode === 'number' ? r.exitCode : undefined;
    if (code !== undefined) res.exitCode = code;
    const notFound =
      (r as { code?: string }).code === 'ENOENT' ||
      /ENOENT/.test(String((r as { message?: string }).message ?? ''));
    if (notFound && code === undefined) {
      const line = `command not found: ${file}`;
      lines.push(line);
      keep(line);
      res.output = lines.join('\n');
    }
    if (cancelled) {
      res.status = 'cancelled';
      overall = 'cancelled';
    } else if (timedOut) {
      res.status = 'timeout';
      if (!step.continueOnError) overall = 'timeout';
    } else if (code === 0) {
      res.status = 'ok';
    } else {
      res.status = 'failed';
      if (!step.continueOnError) overall = 'failed';
    }
    progress(i, true);
  }
  const output = trimmed > 0 ? `… (${trimmed} bytes trimmed)\n${full}` : full;
  return { status: overall, steps: results, output, durationMs: now() - started };
}

import { replaceEvery, type Pattern } from '../matching/re2.js';

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
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;

/** Replaces every match of the patterns (RE2, linear-time) by `[redacted]`. */
export function redactText(text: string, patterns: readonly Pattern[]): string {
  return replaceEvery(text, patterns);
}

function killTree(pid: number | undefined, signal: NodeJS.Signals) {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/**
 * Runs steps in order with execa: no shell, a scrubbed environment, each step in its own process
 * group so a timeout or cancel kills the whole tree, output redacted line by line before it is kept.
 */
export async function runSteps(steps: ExecStep[], opts: ExecOptions = {}): Promise<RunResult> {
  const now = opts.now ?? Date.now;
  const redact = opts.redact ?? [];
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
    keep(redactText(`$ ${step.argv.join(' ')}`, redact));
    const lines: string[] = [];
    let partial = '';
    const onText = (chunk: string) => {
      const text = (partial + chunk).replace(ANSI, '');
      const parts = text.split(/\r?\n/);
      partial = parts.pop() ?? '';
      for (const raw of parts) {
        const line = redactText(raw, redact).slice(0, 2000);
        lines.push(line);
        if (lines.length > tailN) lines.shift();
        keep(line);
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
    const stop = (why: 'timeout' | 'cancel') => {
      if (why === 'timeout') timedOut = true;
      else cancelled = true;
      killTree(child.pid, 'SIGTERM');
      setTimeout(() => killTree(child.pid, 'SIGKILL'), 2000).unref();
    };
    const timer = setTimeout(() => stop('timeout'), step.timeoutMs);
    const onAbort = () => stop('cancel');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const r = await child;
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    // make sure nothing of the group outlives the step
    killTree(child.pid, 'SIGKILL');
    if (partial) onText('\n');
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

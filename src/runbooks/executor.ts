// TEMPORARY STUB (lead): replaced by the real executor.
export interface ExecStep { name: string; argv: string[]; timeoutMs: number; continueOnError?: boolean }
export type StepStatus = 'pending' | 'running' | 'ok' | 'failed' | 'timeout' | 'skipped' | 'cancelled';
export interface StepResult { name: string; status: StepStatus; exitCode?: number; durationMs?: number; output: string }
export interface RunResult { status: 'ok' | 'failed' | 'timeout' | 'cancelled'; steps: StepResult[]; output: string; durationMs: number }
export interface ExecOptions {
  env?: Record<string, string>;
  cwd?: string;
  redact?: RegExp[];
  signal?: AbortSignal;
  onProgress?: (steps: StepResult[], current: number) => void;
}
export async function runSteps(steps: ExecStep[], _opts?: ExecOptions): Promise<RunResult> {
  return { status: 'failed', steps: steps.map((s) => ({ name: s.name, status: 'skipped', output: '' })), output: '', durationMs: 0 };
}

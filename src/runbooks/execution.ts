import { randomBytes } from 'node:crypto';
import type { AuditLog } from '../audit.js';
import type { Clock } from '../clock.js';
import type { ApprovalRecord } from '../domain/runs.js';
import { ValidationError } from '../errors.js';
import type { Locale } from '../i18n.js';
import type { IncidentRepository } from '../store/incidents.js';
import { parseChatKey } from '../incidents/routing.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { LockStore } from '../store/locks.js';
import type { RunStore } from '../store/runs.js';
import { runSteps, type RunResult } from './executor.js';
import type { RunbookMessages, RunKeyboard } from './messages.js';
import { paramsHash, renderArgv, renderTemplate, resolveParams } from './params.js';
import { bootId, processStart } from './procs.js';
import { compileRedact, type Runbook } from './model.js';

/** The requester as the audit log names them: name and Telegram id. */
export function requesterOf(a: ApprovalRecord) {
  return { name: a.requester, telegramId: Number(a.requesterId) };
}

/** What running runbooks and recovering dead runs both need. */
export interface RunDeps {
  runs: RunStore;
  locks: LockStore;
  clock: Clock;
  repo: IncidentRepository;
  audit: AuditLog;
  messages: RunbookMessages;
  localeOf: (chatId: number) => Promise<Locale>;
  logger: Logger;
  /** Unique id of this process, to tell its runs from a dead replica's. */
  instanceId: string;
  /** This machine: process groups are recorded with it, and only those on it can be killed here. */
  host: string;
}

export interface ExecutionDeps extends RunDeps {
  metrics: Metrics;
  /** Min ms between two progress edits of one run message (Telegram edit limits). */
  progressIntervalMs?: number;
  /** Values redacted from every step's output: opsbot's tokens and every `${VAR}` of the config. */
  secrets?: readonly string[];
  /** Lease of a runbook lock, renewed while its run is alive (default 30 s). */
  lockLeaseMs?: number;
  /** SIGTERM → SIGKILL grace for a step on timeout, cancel or shutdown (default 2 s). */
  killGraceMs?: number;
}

/** Edits a run's message through the outbox; edits of one request coalesce. */
export function editRunMessage(
  repo: IncidentRepository,
  chat: string,
  messageId: number,
  text: string,
  keyboard: RunKeyboard | undefined,
  coalesce: string,
) {
  return repo.apply({
    outbox: [{ chat, kind: 'edit', data: { message_id: messageId, text, keyboard }, coalesce }],
  });
}

/**
 * Runs approved requests: checks the stored request again, takes the runbook's lock, records the
 * run, runs its steps (scrubbed environment, redacted output) with throttled progress edits, and
 * records the result in the run record, the audit log, the incident timeline and the message.
 */
export function createExecution(deps: ExecutionDeps) {
  const { runs, locks, clock, repo, audit, messages, logger, metrics } = deps;
  const running = new Map<string, { abort: AbortController; done: Promise<void> }>();
  /** Locks held by this instance's runs, renewed while they run. */
  const held = new Map<string, { lock: string; holder: string }>();
  const aliveTtl = 15_000;
  const lockLease = deps.lockLeaseMs ?? 30_000;
  const killGrace = deps.killGraceMs ?? 2000;
  const boot = bootId();

  const edit = (
    chat: string,
    messageId: number,
    text: string,
    keyboard: RunKeyboard | undefined,
    coalesce: string,
  ) => editRunMessage(repo, chat, messageId, text, keyboard, coalesce);

  /** Executes an approved (or approval-free) request; the caller has won the single-use transition. */
  async function execute(
    rb: Runbook,
    a: ApprovalRecord,
    chatMessage: { chat: string; messageId: number },
    approvers: string[],
  ) {
    const runId = randomBytes(16).toString('hex');
    const { chatId } = parseChatKey(chatMessage.chat);
    const locale = await deps.localeOf(chatId);
    // the stored request is checked again: what runs is exactly what was validated and approved
    let params: Record<string, string> | undefined;
    try {
      params = resolveParams(rb, a.params);
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
    }
    if (!params || paramsHash(params) !== a.paramsHash || paramsHash(a.params) !== a.paramsHash) {
      await audit.append('run.tampered', a.requester, {
        runbook: rb.id,
        token: a.token.slice(0, 8),
      });
      await edit(
        chatMessage.chat,
        chatMessage.messageId,
        messages.refusedTampered(rb, locale),
        undefined,
        `run:${a.token}`,
      );
      return { runId, status: 'refused' as const };
    }
    a = { ...a, params };
    const lockName = renderTemplate(rb.lock, a.params);
    const holder = JSON.stringify({ run: runId, by: a.requester });
    if (!(await locks.acquire(lockName, holder, lockLease))) {
      const current = await locks.holder(lockName);
      let by = '?';
      try {
        by = (JSON.parse(current ?? '{}') as { by?: string }).by ?? '?';
      } catch {
        /* foreign lock value */
      }
      await audit.append('run.locked', requesterOf(a), {
        runbook: rb.id,
        lock: lockName,
        holder: by,
      });
      await edit(
        chatMessage.chat,
        chatMessage.messageId,
        messages.locked(rb, a, lockName, by, locale),
        undefined,
        `run:${a.token}`,
      );
      return { runId, status: 'locked' as const };
    }
    const now = clock.now();
    await runs.start(
      {
        id: runId,
        runbook: rb.id,
        params: a.params,
        requester: a.requester,
        approvers,
        startedAt: now,
        chat: chatMessage.chat,
        messageId: chatMessage.messageId,
        ...(a.incident ? { incident: a.incident } : {}),
        lock: lockName,
        lockHolder: holder,
        owner: deps.instanceId,
        host: deps.host,
        aliveAt: Date.now(),
        token: a.token,
      },
      aliveTtl,
    );
    held.set(runId, { lock: lockName, holder });
    await audit.append('run.start', requesterOf(a), {
      run: runId,
      runbook: rb.id,
      params: a.params,
      approvers,
      incident: a.incident,
    });
    if (a.incident) {
      await repo.apply({
        timeline: [
          {
            inc: a.incident,
            entry: {
              t: now,
              type: 'runbook_started',
              actor: a.requester,
              text: rb.id,
              data: { run: runId, approvers },
            },
          },
        ],
      });
    }
    const abort = new AbortController();
    let lastEdit = 0;
    const interval = deps.progressIntervalMs ?? 1500;
    const coalesce = `run:${a.token}`;
    const stateForRender = { ...a, state: 'running' as const };
    const details = messages.detailsKeyboard(runId, locale);
    const pending: Promise<unknown>[] = [];
    const done = (async () => {
      let result: RunResult;
      try {
        const argv = renderArgv(rb, a.params);
        const env: Record<string, string> = {};
        for (const name of rb.env)
          if (process.env[name] !== undefined) env[name] = process.env[name]!;
        result = await runSteps(
          rb.steps.map((s, i) => ({
            name: s.name,
            argv: argv[i]!,
            timeoutMs: s.timeoutMs,
            continueOnError: s.continueOnError,
          })),
          {
            env,
            ...(rb.cwd ? { cwd: renderTemplate(rb.cwd, a.params) } : {}),
            redact: compileRedact(rb),
            secrets: deps.secrets ?? [],
            killGraceMs: killGrace,
            signal: abort.signal,
            // where the step's process group is, so a successor on this host can kill it after a crash
            onSpawn: (pgid) => {
              const start = processStart(pgid);
              pending.push(
                runs
                  .setProcess(runId, {
                    pgid,
                    host: deps.host,
                    ...(boot ? { boot } : {}),
                    ...(start ? { pstart: start } : {}),
                  })
                  .catch(() => 0),
              );
            },
            onExit: () => {
              pending.push(runs.clearProcess(runId).catch(() => 0));
            },
            onProgress: (steps) => {
              const at = Date.now();
              if (at - lastEdit < interval) return;
              lastEdit = at;
              // a refused or lost write must not become an unhandled rejection (it would end the
              // process); the 5 s lease renewal tries again
              void runs
                .touch(runId, deps.instanceId, aliveTtl)
                .catch((e: unknown) =>
                  logger.warn({ run: runId, err: e }, 'runbook alive lease not refreshed'),
                );
              void edit(
                chatMessage.chat,
                chatMessage.messageId,
                messages.run(rb, stateForRender, locale, steps),
                undefined,
                coalesce,
              ).catch(() => {});
            },
          },
        );
      } catch (e) {
        logger.error({ run: runId, err: e }, 'runbook execution failed');
        result = {
          status: 'failed',
          steps: [],
          output: String((e as Error).message),
          durationMs: 0,
        };
      }
      await Promise.all(pending);
      held.delete(runId);
      const end = clock.now();
      metrics.runs.inc({ result: result.status });
      await runs.finish(runId, {
        state: result.status,
        finishedAt: end,
        steps: result.steps,
        output: result.output,
      });
      await locks.release(lockName, holder);
      await audit.append('run.finish', requesterOf(a), {
        run: runId,
        runbook: rb.id,
        result: result.status,
        duration_ms: result.durationMs,
      });
      if (a.incident) {
        await repo.apply({
          timeline: [
            {
              inc: a.incident,
              entry: {
                t: end,
                type: 'runbook_finished',
                actor: 'opsbot',
                text: `${rb.id}: ${result.status}`,
                data: {
                  run: runId,
                  steps: result.steps.map((s) => ({ name: s.name, status: s.status })),
                },
              },
            },
          ],
        });
      }
      await edit(
        chatMessage.chat,
        chatMessage.messageId,
        messages.run(rb, stateForRender, locale, result.steps, result),
        details,
        coalesce,
      );
      running.delete(runId);
    })();
    running.set(runId, { abort, done });
    return { runId, status: 'started' as const, done };
  }

  return {
    execute,

    /** True while this instance runs `runId`. */
    isRunning: (runId: string) => running.has(runId),

    /** Renews the alive leases and locks of this instance's runs (fire and forget). */
    renewLeases() {
      for (const [id, lock] of held) {
        void runs.renew(id, deps.instanceId, aliveTtl, Date.now()).catch(() => {});
        void locks
          .renew(lock.lock, lock.holder, lockLease)
          .then((ok) => {
            if (!ok) logger.warn({ run: id, lock: lock.lock }, 'runbook lock lease lost');
          })
          .catch(() => {});
      }
    },

    /**
     * Waits for runs in flight (bounded by `graceMs`), then cancels the rest and waits until their
     * steps are dead: SIGTERM, then SIGKILL after the kill grace, before this returns.
     */
    async stop(graceMs = 3000) {
      const all = [...running.values()];
      if (!all.length) return;
      const settled = Promise.allSettled(all.map((x) => x.done));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'t'>((r) => (timer = setTimeout(() => r('t'), graceMs)));
      const r = await Promise.race([settled, timeout]);
      clearTimeout(timer);
      if (r !== 't') return;
      for (const x of all) x.abort.abort();
      // the executor's SIGKILL timer is not unref'd; wait for it (and the final writes), bounded
      const cap = new Promise<void>((res) => (timer = setTimeout(res, killGrace + 3000)));
      await Promise.race([settled, cap]);
      clearTimeout(timer);
    },
  };
}

export type Execution = ReturnType<typeof createExecution>;

import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Api } from 'grammy';
import type { InlineKeyboardMarkup } from 'grammy/types';
import type { Redis } from 'ioredis';
import type { AuditLog } from '../audit.js';
import type { Clock } from '../clock.js';
import { roleAtLeast, type OpsbotConfig } from '../config.js';
import { encodeCallback } from '../telegram/callback-data.js';
import type { Person } from '../bot/context.js';
import { personOf } from '../bot/roles.js';
import { ValidationError } from '../errors.js';
import { formatDuration } from '../duration.js';
import type { TimerData, TimerService } from '../escalation/timers.js';
import type { Locale, Translate } from '../i18n.js';
import type { IncidentRepository } from '../incidents/repository.js';
import { matchLabels, parseChatKey } from '../incidents/routing.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { escapeHtml, trimHtml, trimText } from '../telegram/html.js';
import { formatTime } from '../timezone.js';
import type { Keys } from '../store/keys.js';
import type { Scripts } from '../store/scripts.js';
import { runSteps, type RunResult, type StepResult } from './executor.js';
import { paramsHash, renderArgv, renderTemplate, resolveParams } from './params.js';
import { bootId, killLeftoverGroup, processStart } from './procs.js';
import { compileRedact, type Runbook } from './schema.js';

/** A stored approval request (hash `appr:<token>`). */
export interface ApprovalRecord {
  token: string;
  runbook: string;
  params: Record<string, string>;
  paramsHash: string;
  chat: string;
  chatId: string;
  messageId?: number;
  requester: string;
  requesterId: string;
  incident?: string;
  needed: number;
  approvals: { id: string; name: string; at: number }[];
  state: 'pending' | 'approved' | 'rejected' | 'expired' | 'running' | 'done';
  createdAt: number;
  expiresAt: number;
  decidedBy?: string;
}

/** The requester as the audit log names them: name and Telegram id. */
function requesterOf(a: ApprovalRecord) {
  return { name: a.requester, telegramId: Number(a.requesterId) };
}

export type VoteOutcome =
  | 'expired'
  | 'done'
  | 'wrong_chat'
  | 'self'
  | 'dup'
  | 'rejected'
  | 'counted'
  | 'approved'
  | 'forbidden';

const STEP_ICON: Record<string, string> = {
  pending: '▫️',
  running: '▶️',
  ok: '✅',
  failed: '❌',
  timeout: '⏱',
  skipped: '⏭',
  cancelled: '🚫',
};

export interface RunbookServiceDeps {
  redis: Redis;
  keys: Keys;
  scripts: Scripts;
  clock: Clock;
  config: OpsbotConfig;
  runbooks: Map<string, Runbook>;
  repo: IncidentRepository;
  audit: AuditLog;
  timers: TimerService;
  api: Api;
  t: Translate;
  localeOf: (chatId: number) => Promise<Locale>;
  logger: Logger;
  metrics: Metrics;
  /** Unique id of this process, to tell its runs from a dead replica's. */
  instanceId: string;
  /** Min ms between two progress edits of one run message (Telegram edit limits). */
  progressIntervalMs?: number;
  /** Values redacted from every step's output: opsbot's tokens and every `${VAR}` of the config. */
  secrets?: readonly string[];
  /** This machine, as recorded beside each step's process group (default os.hostname()). */
  host?: string;
  /** Lease of a runbook lock, renewed while its run is alive (default 30 s). */
  lockLeaseMs?: number;
  /** SIGTERM → SIGKILL grace for a step on timeout, cancel or shutdown (default 2 s). */
  killGraceMs?: number;
}

/**
 * Runbooks from the chat: approval requests with single-use 128-bit tokens (approval_vote.lua),
 * locked, scrubbed and redacted execution, live progress edits, and the audit trail.
 */
export function createRunbookService(deps: RunbookServiceDeps) {
  const { redis, keys, scripts, clock, runbooks, repo, audit, timers, t, logger, metrics } = deps;
  const running = new Map<string, { abort: AbortController; done: Promise<void> }>();
  const aliveTtl = 15_000;
  const lockLease = deps.lockLeaseMs ?? 30_000;
  const killGrace = deps.killGraceMs ?? 2000;
  const host = deps.host ?? os.hostname();
  const boot = bootId();
  /** A run of another host whose instance stopped renewing is marked interrupted after this long. */
  const foreignOrphanMs = 10 * 60_000;
  const held = new Map<string, { lock: string; holder: string }>();
  let aliveTimer: NodeJS.Timeout | undefined;
  let sweeping = false;

  function visibleTo(role: Person['role']): Runbook[] {
    return [...runbooks.values()]
      .filter((r) => roleAtLeast(role, r.role))
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  function forLabels(labels: Record<string, string>): Runbook[] {
    return [...runbooks.values()].filter(
      (r) => Object.keys(r.match).length > 0 && matchLabels(r.match, labels),
    );
  }

  async function getApproval(token: string): Promise<ApprovalRecord | undefined> {
    const h = await redis.hgetall(keys.approval(token));
    if (!h.token) return undefined;
    return {
      token: h.token,
      runbook: h.runbook ?? '',
      params: JSON.parse(h.params ?? '{}') as Record<string, string>,
      paramsHash: h.params_hash ?? '',
      chat: h.chat ?? '',
      chatId: h.chat_id ?? '',
      messageId: h.message_id ? Number(h.message_id) : undefined,
      requester: h.requester ?? '',
      requesterId: h.requester_id ?? '',
      incident: h.incident || undefined,
      needed: Number(h.needed ?? 1),
      approvals: JSON.parse(h.approvals ?? '[]') as ApprovalRecord['approvals'],
      state: (h.state ?? 'pending') as ApprovalRecord['state'],
      createdAt: Number(h.created_at ?? 0),
      expiresAt: Number(h.expires_at ?? 0),
      decidedBy: h.decided_by || undefined,
    };
  }

  /** The request/progress message of a run. */
  function renderRun(
    rb: Runbook,
    a: Pick<
      ApprovalRecord,
      | 'params'
      | 'requester'
      | 'incident'
      | 'approvals'
      | 'needed'
      | 'expiresAt'
      | 'state'
      | 'decidedBy'
    >,
    locale: Locale,
    steps?: StepResult[],
    result?: RunResult,
  ): string {
    const lines = [
      t(locale, 'run-title', { id: escapeHtml(rb.id), title: escapeHtml(rb.title) }),
      t(locale, 'run-requested', { who: escapeHtml(a.requester) }) +
        (a.incident ? ` · ${a.incident}` : ''),
    ];
    const params = Object.entries(a.params);
    if (params.length)
      lines.push(
        `${t(locale, 'run-params')} ${params.map(([k, v]) => `${escapeHtml(k)}=<code>${escapeHtml(v)}</code>`).join(' ')}`,
      );
    if (rb.approval.required) {
      const who = a.approvals.map((x) => escapeHtml(x.name)).join(', ');
      lines.push(
        t(locale, 'run-approvals', { have: a.approvals.length, need: a.needed, who: who || '—' }),
      );
    }
    switch (a.state) {
      case 'pending':
        lines.push(t(locale, 'run-pending', { until: formatTime(a.expiresAt) }));
        break;
      case 'rejected':
        lines.push(t(locale, 'run-rejected', { who: escapeHtml(a.decidedBy ?? '?') }));
        break;
      case 'expired':
        lines.push(t(locale, 'run-expired'));
        break;
      default:
        break;
    }
    const list =
      steps ?? rb.steps.map((s) => ({ name: s.name, status: 'pending', output: '' }) as StepResult);
    if (a.state !== 'rejected' && a.state !== 'expired') {
      for (const s of list) {
        const dur = s.durationMs !== undefined ? ` (${formatDuration(s.durationMs)})` : '';
        lines.push(`${STEP_ICON[s.status] ?? '▫️'} ${escapeHtml(s.name)}${dur}`);
        if (s.output && s.status !== 'pending') {
          const tail = s.output.split('\n').slice(-4).join('\n');
          lines.push(`<pre>${escapeHtml(trimText(tail, 500))}</pre>`);
        }
      }
    }
    if (result)
      lines.push(
        t(locale, `run-result-${result.status}`, { duration: formatDuration(result.durationMs) }),
      );
    return trimHtml(lines.join('\n'));
  }

  function voteKeyboard(token: string, locale: Locale): InlineKeyboardMarkup {
    return {
      inline_keyboard: [
        [
          {
            text: t(locale, 'btn-approve'),
            callback_data: encodeCallback({ kind: 'approval', vote: 'y', token }),
          },
          {
            text: t(locale, 'btn-reject'),
            callback_data: encodeCallback({ kind: 'approval', vote: 'n', token }),
          },
        ],
      ],
    };
  }

  async function editRun(
    chat: string,
    messageId: number,
    text: string,
    keyboard: InlineKeyboardMarkup | undefined,
    coalesce: string,
  ) {
    await repo.apply({
      outbox: [{ chat, kind: 'edit', data: { message_id: messageId, text, keyboard }, coalesce }],
    });
  }

  async function releaseLock(name: string, holder: string) {
    await scripts.run('lock_release', [keys.lock(name), holder]);
  }

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
      await editRun(
        chatMessage.chat,
        chatMessage.messageId,
        t(locale, 'run-refused-tampered', { id: escapeHtml(rb.id) }),
        undefined,
        `run:${a.token}`,
      );
      return { runId, status: 'refused' as const };
    }
    a = { ...a, params };
    const lockName = renderTemplate(rb.lock, a.params);
    const holder = JSON.stringify({ run: runId, by: a.requester });
    const got = await redis.set(keys.lock(lockName), holder, 'PX', lockLease, 'NX');
    if (got !== 'OK') {
      const current = await redis.get(keys.lock(lockName));
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
      await editRun(
        chatMessage.chat,
        chatMessage.messageId,
        `${renderRun(rb, { ...a, state: 'done' }, locale)}\n${t(locale, 'run-locked', { lock: escapeHtml(lockName), who: escapeHtml(by) })}`,
        undefined,
        `run:${a.token}`,
      );
      return { runId, status: 'locked' as const };
    }
    const now = clock.now();
    await redis
      .multi()
      .hset(keys.run(runId), {
        id: runId,
        runbook: rb.id,
        params: JSON.stringify(a.params),
        requester: a.requester,
        approvers: JSON.stringify(approvers),
        state: 'running',
        started_at: now,
        chat: chatMessage.chat,
        message_id: chatMessage.messageId,
        incident: a.incident ?? '',
        lock: lockName,
        lock_holder: holder,
        owner: deps.instanceId,
        host,
        alive_at: Date.now(),
        token: a.token,
      })
      .sadd(keys.runsActive(), runId)
      .set(`${keys.run(runId)}:alive`, deps.instanceId, 'PX', aliveTtl)
      .exec();
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
    const details = {
      inline_keyboard: [
        [
          {
            text: t(locale, 'btn-details'),
            callback_data: encodeCallback({ kind: 'run-details', run: runId }),
          },
        ],
      ],
    };
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
              const rec: Record<string, string | number> = { pgid, host };
              if (boot) rec.boot = boot;
              const start = processStart(pgid);
              if (start) rec.pstart = start;
              pending.push(redis.hset(keys.run(runId), rec).catch(() => 0));
            },
            onExit: () => {
              pending.push(redis.hdel(keys.run(runId), 'pgid', 'pstart').catch(() => 0));
            },
            onProgress: (steps) => {
              const at = Date.now();
              if (at - lastEdit < interval) return;
              lastEdit = at;
              void redis.set(`${keys.run(runId)}:alive`, deps.instanceId, 'PX', aliveTtl);
              void editRun(
                chatMessage.chat,
                chatMessage.messageId,
                renderRun(rb, stateForRender, locale, steps),
                undefined,
                coalesce,
              ).catch(() => {});
            },
          },
        );
      } catch (e) {
        logger.error({ run: runId, err: (e as Error).message }, 'runbook execution failed');
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
      await redis
        .multi()
        .hset(keys.run(runId), {
          state: result.status,
          finished_at: end,
          steps: JSON.stringify(result.steps),
        })
        .hdel(keys.run(runId), 'pgid', 'pstart')
        .set(keys.runOutput(runId), result.output, 'EX', 30 * 86_400)
        .srem(keys.runsActive(), runId)
        .del(`${keys.run(runId)}:alive`)
        .exec();
      await releaseLock(lockName, holder);
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
      await editRun(
        chatMessage.chat,
        chatMessage.messageId,
        renderRun(rb, stateForRender, locale, result.steps, result),
        details,
        coalesce,
      );
      running.delete(runId);
    })();
    running.set(runId, { abort, done });
    return { runId, status: 'started' as const, done };
  }

  async function expire(id: string, data: TimerData) {
    const token = String(data.token);
    const a = await getApproval(token);
    const settle = { once: id, release: id };
    if (!a || a.state !== 'pending') return void (await repo.apply(settle));
    const rb = runbooks.get(a.runbook);
    const k = keys.approval(token);
    const outbox =
      rb && a.messageId
        ? [
            {
              chat: a.chat,
              kind: 'edit',
              data: {
                message_id: a.messageId,
                text: renderRun(
                  rb,
                  { ...a, state: 'expired' },
                  await deps.localeOf(Number(a.chatId)),
                ),
              },
              coalesce: `run:${token}`,
            },
          ]
        : [];
    const r = await repo.apply({
      ...settle,
      guards: [{ key: k, field: 'state', eq: 'pending' }],
      hset: [{ key: k, field: 'state', value: 'expired' }],
      outbox,
    });
    if (r === 'ok')
      await audit.append('approval.expired', 'opsbot', {
        token: token.slice(0, 8),
        runbook: a.runbook,
      });
  }
  timers.register('appr', (id, data) => expire(id, data));

  return {
    runbooks,
    visibleTo,
    forLabels,
    getApproval,
    renderRun,
    voteKeyboard,

    /**
     * Validates and records a run request. Without approval it runs at once; otherwise a pending
     * approval is stored (token TTL = approval_ttl) and the caller posts the request message.
     */
    async request(
      rb: Runbook,
      values: Record<string, string>,
      who: Person,
      chat: string,
      incident?: string,
    ) {
      const params = resolveParams(rb, values);
      const token = randomBytes(16).toString('hex');
      const now = clock.now();
      const rec: ApprovalRecord = {
        token,
        runbook: rb.id,
        params,
        paramsHash: paramsHash(params),
        chat,
        chatId: String(parseChatKey(chat).chatId),
        requester: who.name,
        requesterId: String(who.telegramId),
        incident,
        needed: rb.approval.required ? rb.approval.approvers : 0,
        approvals: [],
        state: rb.approval.required ? 'pending' : 'approved',
        createdAt: now,
        expiresAt: now + rb.approvalTtlMs,
      };
      const k = keys.approval(token);
      await redis
        .multi()
        .hset(k, {
          token,
          runbook: rb.id,
          params: JSON.stringify(params),
          params_hash: rec.paramsHash,
          chat,
          chat_id: rec.chatId,
          requester: who.name,
          requester_id: rec.requesterId,
          incident: incident ?? '',
          needed: rec.needed,
          approvals: '[]',
          state: rec.state,
          created_at: now,
          expires_at: rec.expiresAt,
        })
        .pexpire(k, rb.approvalTtlMs + 86_400_000)
        .exec();
      await audit.append('run.request', who, {
        runbook: rb.id,
        params,
        token: token.slice(0, 8),
        incident,
        approval: rb.approval.required,
      });
      if (rb.approval.required) {
        await repo.apply({
          timers: [
            {
              id: `appr:${token}`,
              due: rec.expiresAt,
              data: { kind: 'appr', token, due: rec.expiresAt },
            },
          ],
        });
      }
      return rec;
    },

    async attachMessage(token: string, messageId: number) {
      await redis.hset(keys.approval(token), 'message_id', messageId);
    },

    /** One approver's press. Role and the single-use transition are checked here; 'approved' starts the run. */
    async vote(token: string, voter: Person, vote: 'y' | 'n', pressedInChat: number) {
      const a = await getApproval(token);
      const rb = a && runbooks.get(a.runbook);
      if (!a || !rb) return { outcome: 'expired' as VoteOutcome };
      if (!roleAtLeast(voter.role, rb.approveRole)) {
        await audit.append('approval.refused', voter, {
          runbook: rb.id,
          token: token.slice(0, 8),
          role: voter.role,
        });
        return { outcome: 'forbidden' as VoteOutcome, need: rb.approveRole };
      }
      const [raw, have, needed] = (await scripts.run('approval_vote', [
        keys.prefix,
        clock.now(),
        token,
        voter.name,
        String(voter.telegramId),
        vote,
        String(pressedInChat),
      ])) as [string, number, number];
      const outcome = (raw.startsWith('done:') ? 'done' : raw) as VoteOutcome;
      const fresh = (await getApproval(token))!;
      const locale = await deps.localeOf(Number(a.chatId));
      if (outcome === 'self')
        await audit.append('approval.self_refused', voter, {
          runbook: rb.id,
          token: token.slice(0, 8),
        });
      if (outcome === 'rejected' || outcome === 'counted' || outcome === 'approved')
        await audit.append(`approval.${outcome === 'rejected' ? 'reject' : 'approve'}`, voter, {
          runbook: rb.id,
          token: token.slice(0, 8),
          have,
          needed,
        });
      if (outcome === 'rejected' && fresh.messageId) {
        await editRun(
          fresh.chat,
          fresh.messageId,
          renderRun(rb, fresh, locale),
          undefined,
          `run:${token}`,
        );
        if (fresh.incident)
          await repo.apply({
            timeline: [
              {
                inc: fresh.incident,
                entry: { t: clock.now(), type: 'runbook_rejected', actor: voter.name, text: rb.id },
              },
            ],
          });
      }
      if (outcome === 'counted' && fresh.messageId) {
        await editRun(
          fresh.chat,
          fresh.messageId,
          renderRun(rb, fresh, locale),
          voteKeyboard(token, locale),
          `run:${token}`,
        );
      }
      let started: Awaited<ReturnType<typeof execute>> | undefined;
      if (outcome === 'approved' && fresh.messageId) {
        await repo.apply({ cancel: [`appr:${token}`] });
        // the requester's role is checked again now: it may have been removed since the request
        const requester = personOf(deps.config, { id: Number(fresh.requesterId) });
        if (!roleAtLeast(requester.role, rb.role)) {
          await audit.append('run.refused', fresh.requester, {
            runbook: rb.id,
            token: token.slice(0, 8),
            role: requester.role,
            reason: 'requester role removed before approval completed',
          });
          await editRun(
            fresh.chat,
            fresh.messageId,
            `${renderRun(rb, { ...fresh, state: 'done' }, locale)}\n${t(locale, 'run-refused-role', { who: escapeHtml(fresh.requester), role: t(locale, `role-${rb.role}`) })}`,
            undefined,
            `run:${token}`,
          );
          return { outcome, have, needed, started };
        }
        started = await execute(
          rb,
          fresh,
          { chat: fresh.chat, messageId: fresh.messageId },
          fresh.approvals.map((x) => x.name),
        );
      }
      return { outcome, have, needed, started };
    },

    /** Runs a request that needs no approval, once its message exists. */
    startWithoutApproval(rb: Runbook, a: ApprovalRecord, messageId: number) {
      return execute(rb, a, { chat: a.chat, messageId }, []);
    },

    async runOutput(runId: string) {
      const h = await redis.hgetall(keys.run(runId));
      if (!h.id) return undefined;
      return { run: h, output: (await redis.get(keys.runOutput(runId))) ?? '' };
    },

    /**
     * Recovers runs whose instance died (their alive lease lapsed): first kills the process groups
     * they left on this host (checked to be the same group), only then releases their locks and
     * marks them interrupted. They are never re-run by themselves. A run whose group is on another
     * host is left to an instance there, and marked interrupted only after {@link foreignOrphanMs}.
     */
    async recoverInterrupted(): Promise<string[]> {
      const ids = await redis.smembers(keys.runsActive());
      const out: string[] = [];
      for (const id of ids) {
        if (running.has(id)) continue;
        if (await redis.exists(`${keys.run(id)}:alive`)) continue;
        const h = await redis.hgetall(keys.run(id));
        const pgid = Number(h.pgid);
        const here = !h.host || h.host === host;
        if (!here && pgid && Date.now() - Number(h.alive_at || 0) < foreignOrphanMs) continue;
        // one instance recovers a run, even when several sweep at once
        const claim = await redis.set(
          `${keys.run(id)}:recover`,
          deps.instanceId,
          'PX',
          60_000,
          'NX',
        );
        if (claim !== 'OK') continue;
        let killed = false;
        if (here && pgid)
          killed = killLeftoverGroup({
            pgid,
            host,
            ...(h.boot ? { boot: h.boot } : {}),
            ...(h.pstart ? { start: h.pstart } : {}),
          });
        await redis
          .multi()
          .hset(keys.run(id), { state: 'interrupted', finished_at: clock.now() })
          .hdel(keys.run(id), 'pgid', 'pstart')
          .srem(keys.runsActive(), id)
          .exec();
        if (h.lock && h.lock_holder) await releaseLock(h.lock, h.lock_holder);
        await audit.append('run.interrupted', 'opsbot', {
          run: id,
          runbook: h.runbook,
          ...(pgid ? { pgid, host: h.host, killed } : {}),
        });
        if (h.incident)
          await repo.apply({
            timeline: [
              {
                inc: h.incident,
                entry: {
                  t: clock.now(),
                  type: 'runbook_interrupted',
                  actor: 'opsbot',
                  text: h.runbook,
                },
              },
            ],
          });
        if (h.chat && h.message_id) {
          const locale = await deps.localeOf(parseChatKey(h.chat).chatId);
          await editRun(
            h.chat,
            Number(h.message_id),
            `${t(locale, 'run-interrupted', { id: escapeHtml(h.runbook ?? '?') })}`,
            undefined,
            `run:${h.token ?? id}`,
          );
        }
        out.push(id);
      }
      return out;
    },

    /** Renews the alive leases and locks of this instance's runs, and sweeps for dead ones. */
    start() {
      aliveTimer = setInterval(() => {
        for (const [id, lock] of held) {
          void redis
            .multi()
            .set(`${keys.run(id)}:alive`, deps.instanceId, 'PX', aliveTtl)
            .hset(keys.run(id), 'alive_at', Date.now())
            .exec()
            .catch(() => {});
          void scripts
            .run('lock_renew', [keys.lock(lock.lock), lock.holder, lockLease])
            .then((r) => {
              if (r === 0) logger.warn({ run: id, lock: lock.lock }, 'runbook lock lease lost');
            })
            .catch(() => {});
        }
        if (sweeping) return;
        sweeping = true;
        void this.recoverInterrupted()
          .catch((e: Error) => logger.warn({ err: e.message }, 'runbook recovery sweep failed'))
          .finally(() => (sweeping = false));
      }, 5000);
      aliveTimer.unref();
    },

    /**
     * Waits for runs in flight (bounded by `graceMs`), then cancels the rest and waits until their
     * steps are dead: SIGTERM, then SIGKILL after the kill grace, before this returns.
     */
    async stop(graceMs = 3000) {
      if (aliveTimer) clearInterval(aliveTimer);
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

export type RunbookService = ReturnType<typeof createRunbookService>;

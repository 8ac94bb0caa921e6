import { randomBytes } from 'node:crypto';
import type { AuditLog } from '../audit.js';
import type { Clock } from '../clock.js';
import { resolvePerson, roleAtLeast, type People, type Person } from '../domain/people.js';
import type { ApprovalRecord, VoteOutcome } from '../domain/runs.js';
import type { OutboxEntry } from '../domain/outbox.js';
import type { TimerData, TimerService } from '../escalation/timers.js';
import type { Locale } from '../i18n.js';
import type { IncidentRepository } from '../store/incidents.js';
import { parseChatKey } from '../incidents/routing.js';
import type { ApprovalStore } from '../store/approvals.js';
import { editRunMessage, type Execution } from './execution.js';
import type { RunbookMessages } from './messages.js';
import { paramsHash, resolveParams } from './params.js';
import type { Runbook } from './model.js';

export interface RequestDeps {
  approvals: ApprovalStore;
  clock: Clock;
  /** The configured people, read at each vote (a requester's role may change meanwhile). */
  config: { people: People };
  runbooks: Map<string, Runbook>;
  repo: IncidentRepository;
  audit: AuditLog;
  timers: TimerService;
  messages: RunbookMessages;
  localeOf: (chatId: number) => Promise<Locale>;
}

/**
 * Run requests and approvals: requests with single-use 128-bit tokens, votes counted atomically,
 * expiry by a durable timer, and the start of the run once the last approval is in.
 */
export function createRunRequests(deps: RequestDeps, execution: Pick<Execution, 'execute'>) {
  const { approvals, clock, runbooks, repo, audit, timers, messages } = deps;

  async function expire(id: string, data: TimerData) {
    const token = String(data.token);
    const a = await approvals.get(token);
    const settle = { once: id, release: id };
    if (!a || a.state !== 'pending') return void (await repo.apply(settle));
    const rb = runbooks.get(a.runbook);
    const outbox: OutboxEntry[] =
      rb && a.messageId
        ? [
            {
              chat: a.chat,
              kind: 'edit',
              data: {
                message_id: a.messageId,
                text: messages.run(
                  rb,
                  { ...a, state: 'expired' },
                  await deps.localeOf(Number(a.chatId)),
                ),
              },
              coalesce: `run:${token}`,
            },
          ]
        : [];
    const r = await repo.apply({ ...settle, ...approvals.expiryEffects(token), outbox });
    if (r === 'ok')
      await audit.append('approval.expired', 'opsbot', {
        token: token.slice(0, 8),
        runbook: a.runbook,
      });
  }
  timers.register('appr', (id, data) => expire(id, data));

  return {
    getApproval: (token: string) => approvals.get(token),

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
      await approvals.create(rec, rb.approvalTtlMs);
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

    attachMessage: (token: string, messageId: number) => approvals.attachMessage(token, messageId),

    /** One approver's press. Role and the single-use transition are checked here; 'approved' starts the run. */
    async vote(token: string, voter: Person, vote: 'y' | 'n', pressedInChat: number) {
      const a = await approvals.get(token);
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
      const { outcome, have, needed } = await approvals.vote({
        now: clock.now(),
        token,
        voter: voter.name,
        voterId: voter.telegramId,
        vote,
        chatId: pressedInChat,
      });
      const fresh = (await approvals.get(token))!;
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
      const edit = (text: string, keyboard?: object) =>
        editRunMessage(repo, fresh.chat, fresh.messageId!, text, keyboard, `run:${token}`);
      if (outcome === 'rejected' && fresh.messageId) {
        await edit(messages.run(rb, fresh, locale));
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
      if (outcome === 'counted' && fresh.messageId)
        await edit(messages.run(rb, fresh, locale), messages.voteKeyboard(token, locale));
      let started: Awaited<ReturnType<Execution['execute']>> | undefined;
      if (outcome === 'approved' && fresh.messageId) {
        await repo.apply({ cancel: [`appr:${token}`] });
        // the requester's role is checked again now: it may have been removed since the request
        const requester = resolvePerson(deps.config.people, { id: Number(fresh.requesterId) });
        if (!roleAtLeast(requester.role, rb.role)) {
          await audit.append('run.refused', fresh.requester, {
            runbook: rb.id,
            token: token.slice(0, 8),
            role: requester.role,
            reason: 'requester role removed before approval completed',
          });
          await edit(messages.refusedRole(rb, fresh, locale));
          return { outcome, have, needed, started };
        }
        started = await execution.execute(
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
      return execution.execute(rb, a, { chat: a.chat, messageId }, []);
    },
  };
}

export type RunRequests = ReturnType<typeof createRunRequests>;

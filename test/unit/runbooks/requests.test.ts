import { describe, expect, it } from 'vitest';
import type { AuditLog } from '../../../src/audit.js';
import { FakeClock } from '../../../src/clock.js';
import type { Person } from '../../../src/domain/people.js';
import type { ApprovalRecord } from '../../../src/domain/runs.js';
import type { TimerHandler, TimerService } from '../../../src/escalation/timers.js';
import type { EffectPlan, IncidentRepository } from '../../../src/store/incidents.js';
import { parseRunbook } from '../../../src/runbooks/loader.js';
import type { RunbookMessages } from '../../../src/runbooks/messages.js';
import { createRunRequests } from '../../../src/runbooks/requests.js';
import type { ApprovalStore } from '../../../src/store/approvals.js';

const rb = parseRunbook(
  [
    'id: restart',
    'title: Restart',
    'description: Restarts it',
    'role: responder',
    'approval: { required: true, approvers: 1 }',
    'steps: [{ name: go, run: [echo, hi] }]',
  ].join('\n'),
  'restart.yaml',
);
const bob: Person = { name: 'bob', role: 'responder', telegramId: 2, known: true };
const alice: Person = { name: 'alice', role: 'approver', telegramId: 1, known: true };

function setup(people: Record<string, { telegram_id: number; roles: Person['role'][] }>) {
  const clock = new FakeClock();
  const stored = new Map<string, ApprovalRecord>();
  const plans: EffectPlan[] = [];
  const audits: string[] = [];
  const executed: string[] = [];
  const handlers = new Map<string, TimerHandler>();
  let voteResult = { outcome: 'approved' as const, have: 1, needed: 1 };
  const approvals = {
    get: async (t: string) => stored.get(t),
    create: async (r: ApprovalRecord) => void stored.set(r.token, r),
    attachMessage: async (t: string, m: number) => void (stored.get(t)!.messageId = m),
    vote: async () => {
      return voteResult;
    },
    expiryEffects: (t: string) => ({
      guards: [{ key: `appr:${t}`, field: 'state', eq: 'pending' }],
      hset: [{ key: `appr:${t}`, field: 'state', value: 'expired' }],
    }),
  } as unknown as ApprovalStore;
  const messages = {
    run: (_rb: unknown, a: { state: string }) => `run ${a.state}`,
    voteKeyboard: () => ({ kb: 1 }),
    refusedRole: (_rb: unknown, a: { requester: string }) => `refused ${a.requester}`,
  } as unknown as RunbookMessages;
  const requests = createRunRequests(
    {
      approvals,
      clock,
      config: { people },
      runbooks: new Map([[rb.id, rb]]),
      repo: {
        apply: async (p: EffectPlan) => (plans.push(p), 'ok'),
      } as unknown as IncidentRepository,
      audit: {
        append: async (event: string) => void audits.push(event),
      } as unknown as AuditLog,
      timers: {
        register: (kind: string, h: TimerHandler) => void handlers.set(kind, h),
      } as unknown as TimerService,
      messages,
      localeOf: async () => 'en',
    },
    {
      execute: async (_rb, a) => {
        executed.push(a.token);
        return { runId: 'x', status: 'refused' as const };
      },
    },
  );
  return {
    requests,
    stored,
    plans,
    audits,
    executed,
    handlers,
    clock,
    setVote: (v: typeof voteResult) => (voteResult = v),
  };
}

const people = {
  alice: { telegram_id: 1, roles: ['approver' as const] },
  bob: { telegram_id: 2, roles: ['responder' as const] },
};

describe('run requests', () => {
  it('a request needing approval is stored pending with an expiry timer at approval_ttl', async () => {
    const s = setup(people);
    const rec = await s.requests.request(rb, {}, bob, '-100', 'INC-1');
    expect(rec).toMatchObject({ state: 'pending', needed: 1, chatId: '-100', requester: 'bob' });
    expect(rec.token).toMatch(/^[0-9a-f]{32}$/);
    expect(rec.expiresAt - rec.createdAt).toBe(rb.approvalTtlMs);
    expect(s.plans).toEqual([
      {
        timers: [
          {
            id: `appr:${rec.token}`,
            due: rec.expiresAt,
            data: { kind: 'appr', token: rec.token, due: rec.expiresAt },
          },
        ],
      },
    ]);
    expect(s.audits).toEqual(['run.request']);
  });

  it('expiry edits a pending request once, guarded on its state, and audits it', async () => {
    const s = setup(people);
    const rec = await s.requests.request(rb, {}, bob, '-100');
    await s.requests.attachMessage(rec.token, 9);
    s.plans.length = 0;
    await s.handlers.get('appr')!(`appr:${rec.token}`, { kind: 'appr', token: rec.token });
    expect(s.plans[0]).toMatchObject({
      once: `appr:${rec.token}`,
      guards: [{ field: 'state', eq: 'pending' }],
      hset: [{ field: 'state', value: 'expired' }],
      outbox: [
        {
          chat: '-100',
          kind: 'edit',
          data: { message_id: 9, text: 'run expired' },
          coalesce: `run:${rec.token}`,
        },
      ],
    });
    expect(s.audits).toContain('approval.expired');
    // a request that is no longer pending only settles its timer
    s.stored.get(rec.token)!.state = 'approved';
    s.plans.length = 0;
    await s.handlers.get('appr')!(`appr:${rec.token}`, { kind: 'appr', token: rec.token });
    expect(s.plans).toEqual([{ once: `appr:${rec.token}`, release: `appr:${rec.token}` }]);
  });

  it('a voter below the approve role is refused before any vote is counted', async () => {
    const s = setup(people);
    const rec = await s.requests.request(rb, {}, bob, '-100');
    const r = await s.requests.vote(rec.token, { ...bob, name: 'carol', telegramId: 3 }, 'y', -100);
    expect(r).toEqual({ outcome: 'forbidden', need: 'approver' });
    expect(s.audits).toContain('approval.refused');
    expect(s.executed).toEqual([]);
  });

  it('the last approval runs the request, unless the requester lost the role meanwhile', async () => {
    const s = setup(people);
    const rec = await s.requests.request(rb, {}, bob, '-100');
    await s.requests.attachMessage(rec.token, 9);
    await s.requests.vote(rec.token, alice, 'y', -100);
    expect(s.executed).toEqual([rec.token]);

    const demoted = setup({ ...people, bob: { telegram_id: 2, roles: ['viewer'] } });
    const rec2 = await demoted.requests.request(rb, {}, bob, '-100');
    await demoted.requests.attachMessage(rec2.token, 9);
    demoted.plans.length = 0;
    await demoted.requests.vote(rec2.token, alice, 'y', -100);
    expect(demoted.executed).toEqual([]);
    expect(demoted.audits).toContain('run.refused');
    expect(demoted.plans.at(-1)!.outbox![0]!.data).toEqual({
      message_id: 9,
      text: 'refused bob',
      keyboard: undefined,
    });
  });

  it('an unknown token is expired', async () => {
    const s = setup(people);
    expect(await s.requests.vote('nope', alice, 'y', -100)).toEqual({ outcome: 'expired' });
  });
});

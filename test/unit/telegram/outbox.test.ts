import { GrammyError } from 'grammy';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/clock.js';
import type { OutboxJob, OutboxOutcome, OutboxRecord } from '../../../src/domain/outbox.js';
import { createI18n } from '../../../src/i18n.js';
import type { Incident } from '../../../src/domain/incident.js';
import type { EffectPlan } from '../../../src/store/incidents.js';
import { createLogger } from '../../../src/logger.js';
import { createMetrics } from '../../../src/metrics.js';
import type { CardState, DigestRecord } from '../../../src/store/outbox.js';
import { createOutbox } from '../../../src/telegram/outbox.js';
import type { Sender } from '../../../src/telegram/sender.js';
import { makeIncident } from '../../helpers/incident.js';

const CHAT = '-1001';
const { t } = createI18n();

function incident(over: Partial<Incident> = {}): Incident {
  return makeIncident({
    severity: 'P1',
    source: 'grafana',
    integration: 'grafana',
    dedup: 'api-errors',
    chats: [CHAT],
    createdAt: 1_000,
    ...over,
  });
}

type Call = {
  method: 'send' | 'sendPhoto' | 'edit';
  chat: string;
  text?: string;
  replyTo?: number;
};

/** A fake Bot API sender (message ids count up; `fail` throws on the next call) and a fake store. */
function setup(opts: { inc?: Incident; messages?: Record<string, string>; card?: CardState } = {}) {
  const calls: Call[] = [];
  const finished: {
    job: string;
    outcome: OutboxOutcome;
    delayMs?: number;
    records: OutboxRecord[];
    failure?: boolean;
  }[] = [];
  const applied: EffectPlan[] = [];
  const queue: OutboxJob[] = [];
  let nextId = 100;
  let fail: unknown;
  const maybeFail = () => {
    if (fail === undefined) return;
    const e = fail;
    fail = undefined;
    throw e;
  };
  const sender: Sender = {
    async send(chat, text, o = {}) {
      maybeFail();
      calls.push({ method: 'send', chat, text, replyTo: o.replyTo });
      return nextId++;
    },
    async sendPhoto(chat, _photo, caption, o = {}) {
      maybeFail();
      calls.push({ method: 'sendPhoto', chat, text: caption, replyTo: o.replyTo });
      return nextId++;
    },
    async edit(chat, _mid, text) {
      maybeFail();
      calls.push({ method: 'edit', chat, text });
      return true;
    },
  };
  const store = {
    async claim() {
      const job = queue.shift();
      return job ? { job, waitMs: 0 as const } : { waitMs: -1 };
    },
    async depth() {
      return queue.length;
    },
    async finish(
      job: OutboxJob,
      outcome: OutboxOutcome,
      o: { delayMs?: number; failure?: boolean } = {},
      ...records: OutboxRecord[]
    ) {
      finished.push({
        job: job.id,
        outcome,
        delayMs: o.delayMs,
        records,
        ...(o.failure ? { failure: true } : {}),
      });
    },
    async cardView(id: string) {
      return {
        ...(opts.inc?.id === id ? { inc: opts.inc } : {}),
        messages: opts.messages ?? {},
        shown: opts.card ?? {},
      };
    },
    async onlyInDigest() {
      return false;
    },
    async checklistState() {
      return {};
    },
    async digest(): Promise<DigestRecord | undefined> {
      return undefined;
    },
  };
  const repo = {
    async get(id: string) {
      return opts.inc?.id === id ? opts.inc : undefined;
    },
    async getMany(ids: string[]) {
      return opts.inc && ids.includes(opts.inc.id) ? [opts.inc] : [];
    },
    async messages() {
      return opts.messages ?? {};
    },
    async apply(plan: EffectPlan) {
      applied.push(plan);
      return 'ok' as const;
    },
  };
  const outbox = createOutbox({
    store,
    sender,
    repo,
    warRooms: { threadFor: async () => undefined, reconcile: async () => {} },
    clock: new FakeClock(60_000),
    t,
    localeOf: async () => 'en',
    logger: createLogger('silent'),
    metrics: createMetrics({ defaults: false }),
  });
  return {
    calls,
    finished,
    applied,
    failNext: (e: unknown) => (fail = e),
    async run(job: OutboxJob) {
      queue.push(job);
      await outbox.drain();
    },
  };
}

const sync = (over: Partial<Extract<OutboxJob, { kind: 'sync' }>> = {}): OutboxJob => ({
  id: '1',
  chat: CHAT,
  kind: 'sync',
  data: { inc: 'INC-1' },
  coalesce: 'sync:INC-1',
  new: 0,
  ...over,
});

function tooManyRequests(retryAfter: number) {
  return new GrammyError(
    'Call to sendMessage failed',
    {
      ok: false,
      error_code: 429,
      description: `Too Many Requests: retry after ${retryAfter}`,
      parameters: { retry_after: retryAfter },
    },
    'sendMessage',
    {},
  );
}

describe('outbox dispatch', () => {
  it('a sync whose card would show the same thing again sends nothing and is a noop', async () => {
    const inc = incident();
    // first: the card's message exists, its shown signature is unknown → the card is edited
    const first = setup({ inc, messages: { [CHAT]: '7' } });
    await first.run(sync());
    expect(first.calls.map((c) => c.method)).toEqual(['edit']);
    const sig = first.finished[0]!.records.find((r) => r.kind === 'card_signature');
    expect(first.finished[0]!.outcome).toBe('done');
    expect(sig).toBeDefined();
    // then: the store says the card already shows that signature → no Bot API call, slot back
    const shown = sig!.kind === 'card_signature' ? sig!.signature : '';
    const again = setup({ inc, messages: { [CHAT]: '7' }, card: { signature: shown } });
    await again.run(sync());
    expect(again.calls).toEqual([]);
    expect(again.finished).toEqual([
      { job: '1', outcome: 'noop', delayMs: undefined, records: [] },
    ]);
  });

  it('a new card is posted and its message id and signature are recorded with the settlement', async () => {
    const s = setup({ inc: incident() });
    await s.run(sync({ data: { inc: 'INC-1', force: true } }));
    expect(s.calls).toMatchObject([{ method: 'send', chat: CHAT }]);
    expect(s.finished[0]!.outcome).toBe('done');
    expect(s.finished[0]!.records.map((r) => r.kind)).toEqual(['message', 'card_signature']);
    expect(s.finished[0]!.records[0]).toEqual({
      kind: 'message',
      inc: 'INC-1',
      chat: CHAT,
      messageId: 100,
    });
  });

  it('a page for an incident acknowledged while it waited edits the card instead of ringing', async () => {
    const page: OutboxJob = {
      id: '2',
      chat: CHAT,
      kind: 'page',
      data: { inc: 'INC-1', level: 1 },
      coalesce: 'sync:INC-1',
      new: 0,
    };
    const acked = setup({
      inc: incident({ state: 'acknowledged', ackBy: 'alice' }),
      messages: { [CHAT]: '7' },
    });
    await acked.run(page);
    expect(acked.calls.map((c) => c.method)).toEqual(['edit']);
    expect(acked.calls[0]!.text).not.toContain(t('en', 'page-header-chat', { level: 2 }));
    // the same page for a triggered incident posts anew, as a reply to the card, with the header
    const open = setup({ inc: incident(), messages: { [CHAT]: '7' } });
    await open.run(page);
    expect(open.calls).toMatchObject([{ method: 'send', replyTo: 7 }]);
    expect(open.calls[0]!.text).toContain(t('en', 'page-header-chat', { level: 2 }));
  });

  it('a DM page for an acknowledged incident sends nothing', async () => {
    const s = setup({ inc: incident({ state: 'acknowledged' }) });
    await s.run({
      id: '3',
      chat: '42',
      kind: 'page',
      data: { inc: 'INC-1', level: 0, person: 'alice', telegram_id: 42 },
      coalesce: 'sync:INC-1',
      new: 0,
    });
    expect(s.calls).toEqual([]);
    expect(s.finished.map((f) => f.outcome)).toEqual(['noop']);
  });

  it("a 429 re-queues the job after Telegram's retry_after, without a failure counted", async () => {
    const s = setup({ inc: incident() });
    s.failNext(tooManyRequests(7));
    await s.run({ id: '4', chat: CHAT, kind: 'text', data: { text: 'hi' }, coalesce: '', new: 0 });
    expect(s.calls).toEqual([]);
    expect(s.finished).toEqual([{ job: '4', outcome: 'retry', delayMs: 7000, records: [] }]);
  });

  it('a Telegram 5xx re-queues the job with its failure counted, so the wait grows; it is never dropped', async () => {
    const serverError = new GrammyError(
      'Call to sendMessage failed',
      { ok: false, error_code: 502, description: 'Bad Gateway' },
      'sendMessage',
      {},
    );
    for (const attempts of [0, 3, 40]) {
      const s = setup({ inc: incident() });
      s.failNext(serverError);
      const job = {
        id: '5',
        chat: CHAT,
        kind: 'text' as const,
        data: { text: 'hi' },
        coalesce: '',
        new: 0,
      };
      await s.run({ ...job, attempts });
      expect(s.finished).toEqual([
        {
          job: '5',
          outcome: 'retry',
          delayMs: Math.min(500 * 2 ** Math.min(attempts + 1, 6), 30_000),
          records: [],
          failure: true,
        },
      ]);
    }
  });

  it('a refused DM page mentions the person in the incident chat instead', async () => {
    const s = setup({ inc: incident() });
    s.failNext(
      new GrammyError(
        'Call to sendMessage failed',
        { ok: false, error_code: 403, description: 'Forbidden: bot was blocked by the user' },
        'sendMessage',
        {},
      ),
    );
    await s.run({
      id: '5',
      chat: '42',
      kind: 'page',
      data: { inc: 'INC-1', level: 0, person: 'alice', telegram_id: 42 },
      coalesce: 'sync:INC-1',
      new: 0,
    });
    expect(s.finished.map((f) => f.outcome)).toEqual(['done']);
    expect(s.applied[0]!.outbox).toMatchObject([{ chat: CHAT, kind: 'text' }]);
    expect(
      s.applied[0]!.outbox![0]!.kind === 'text' && s.applied[0]!.outbox![0]!.data.text,
    ).toContain('tg://user?id=42');
  });
});

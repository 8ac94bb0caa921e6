import type { Redis } from 'ioredis';
import type { RunProcess, RunRecord, RunStart } from '../domain/runs.js';
import type { Keys } from './keys.js';

/** How long a finished run's full output is kept. */
const OUTPUT_TTL_S = 30 * 86_400;

function decode(h: Record<string, string>): RunRecord {
  return {
    id: h.id,
    runbook: h.runbook,
    state: h.state,
    chat: h.chat || undefined,
    messageId: h.message_id ? Number(h.message_id) : undefined,
    incident: h.incident || undefined,
    lock: h.lock || undefined,
    lockHolder: h.lock_holder || undefined,
    host: h.host || undefined,
    pgid: h.pgid ? Number(h.pgid) : undefined,
    boot: h.boot || undefined,
    pstart: h.pstart || undefined,
    aliveAt: Number(h.alive_at || 0),
    token: h.token,
  };
}

/**
 * Run records (hash per run), the set of active runs, each run's alive lease (kept by its
 * instance) and its output.
 */
export function createRunStore(deps: { redis: Redis; keys: Keys }) {
  const { redis, keys } = deps;
  return {
    /** Records a starting run as active, with its alive lease. */
    async start(run: RunStart, aliveTtlMs: number): Promise<void> {
      await redis
        .multi()
        .hset(keys.run(run.id), {
          id: run.id,
          runbook: run.runbook,
          params: JSON.stringify(run.params),
          requester: run.requester,
          approvers: JSON.stringify(run.approvers),
          state: 'running',
          started_at: run.startedAt,
          chat: run.chat,
          message_id: run.messageId,
          incident: run.incident ?? '',
          lock: run.lock,
          lock_holder: run.lockHolder,
          owner: run.owner,
          host: run.host,
          alive_at: run.aliveAt,
          token: run.token,
        })
        .sadd(keys.runsActive(), run.id)
        .set(keys.runAlive(run.id), run.owner, 'PX', aliveTtlMs)
        .exec();
    },

    /** Where the current step's process group is, so a successor on that host can kill it. */
    async setProcess(runId: string, p: RunProcess): Promise<void> {
      const rec: Record<string, string | number> = { pgid: p.pgid, host: p.host };
      if (p.boot) rec.boot = p.boot;
      if (p.pstart) rec.pstart = p.pstart;
      await redis.hset(keys.run(runId), rec);
    },

    async clearProcess(runId: string): Promise<void> {
      await redis.hdel(keys.run(runId), 'pgid', 'pstart');
    },

    /** Extends the alive lease only. */
    async touch(runId: string, owner: string, aliveTtlMs: number): Promise<void> {
      await redis.set(keys.runAlive(runId), owner, 'PX', aliveTtlMs);
    },

    /** Extends the alive lease and records when (`alive_at`, read by other hosts' recovery). */
    async renew(runId: string, owner: string, aliveTtlMs: number, at: number): Promise<void> {
      await redis
        .multi()
        .set(keys.runAlive(runId), owner, 'PX', aliveTtlMs)
        .hset(keys.run(runId), 'alive_at', at)
        .exec();
    },

    /** Records the end of a run: result, steps and output; it is no longer active. */
    async finish(
      runId: string,
      end: { state: string; finishedAt: number; steps: unknown; output: string },
    ): Promise<void> {
      await redis
        .multi()
        .hset(keys.run(runId), {
          state: end.state,
          finished_at: end.finishedAt,
          steps: JSON.stringify(end.steps),
        })
        .hdel(keys.run(runId), 'pgid', 'pstart')
        .set(keys.runOutput(runId), end.output, 'EX', OUTPUT_TTL_S)
        .srem(keys.runsActive(), runId)
        .del(keys.runAlive(runId))
        .exec();
    },

    /** Ids of the runs recorded as active (bounded by the runs in flight across instances). */
    activeIds(): Promise<string[]> {
      return redis.smembers(keys.runsActive());
    },

    async isAlive(runId: string): Promise<boolean> {
      return (await redis.exists(keys.runAlive(runId))) > 0;
    },

    /** The run's record; every field is absent when there is none. */
    async get(runId: string): Promise<RunRecord> {
      return decode(await redis.hgetall(keys.run(runId)));
    },

    /** The run's full output ('' when none or expired). */
    async output(runId: string): Promise<string> {
      return (await redis.get(keys.runOutput(runId))) ?? '';
    },

    /** True for the one instance that may recover this run now (claim kept for a minute). */
    async claimRecovery(runId: string, instanceId: string): Promise<boolean> {
      return (await redis.set(keys.runRecover(runId), instanceId, 'PX', 60_000, 'NX')) === 'OK';
    },

    /** Marks a run interrupted and no longer active. */
    async markInterrupted(runId: string, at: number): Promise<void> {
      await redis
        .multi()
        .hset(keys.run(runId), { state: 'interrupted', finished_at: at })
        .hdel(keys.run(runId), 'pgid', 'pstart')
        .srem(keys.runsActive(), runId)
        .exec();
    },
  };
}

export type RunStore = ReturnType<typeof createRunStore>;

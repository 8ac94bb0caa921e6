import type { Clock } from '../clock.js';
import type { OpsbotConfig } from '../config.js';
import type { TimerService } from '../escalation/timers.js';
import type { HeartbeatStore } from '../store/heartbeats.js';
import type { IncidentRepository } from '../store/incidents.js';
import type { Intake } from './service.js';
import type { Alert } from '../domain/alert.js';
import { own } from '../own.js';

/**
 * Dead-man's switches: each `heartbeat` integration must ping within `every`; a miss opens an
 * incident "no heartbeat from <name>", the next ping resolves it. Misses are durable timers.
 */
export function createHeartbeats(deps: {
  store: HeartbeatStore;
  clock: Clock;
  config: OpsbotConfig;
  repo: IncidentRepository;
  intake: Intake;
  timers: TimerService;
}) {
  const { store, clock, config, repo, intake, timers } = deps;

  function alertFor(name: string, status: 'firing' | 'resolved', every: number): Alert {
    const integ = own(config.integrations, name)!;
    return {
      source: 'heartbeat',
      integration: name,
      dedupKey: `hb:${name}`,
      fingerprint: `hb:${name}`,
      status,
      title: `No heartbeat from ${name}`,
      description: `Expected a ping at least every ${Math.round(every / 1000)}s on /hooks/heartbeat/${name}.`,
      severity: integ.severity ?? 'P1',
      labels: { alertname: 'HeartbeatMissing', heartbeat: name },
      annotations: {},
      links: [],
    };
  }

  async function arm(name: string, at: number) {
    const every = own(config.integrations, name)!.every!;
    await store.setLastPing(name, at);
    await repo.apply({
      timers: [
        {
          id: `hb:${name}:${at}`,
          due: at + every,
          data: { kind: 'hb', name, ping: at, due: at + every },
        },
      ],
    });
    timers.notify();
  }

  timers.register('hb', async (id, data) => {
    const name = String(data.name);
    const integ = own(config.integrations, name);
    const last = await store.lastPing(name);
    if (integ?.kind === 'heartbeat' && last === String(data.ping)) {
      await intake.ingest([alertFor(name, 'firing', integ.every!)]);
    }
    await repo.apply({ once: id, release: id });
  });

  return {
    /** A ping: re-arm the switch and resolve an open "no heartbeat" incident. */
    async ping(name: string) {
      const integ = own(config.integrations, name)!;
      const now = clock.now();
      await arm(name, now);
      const res = await intake.ingest([alertFor(name, 'resolved', integ.every!)]);
      return res;
    },
    /** At start: arm switches that have never been pinged. */
    async armAll() {
      for (const [name, integ] of Object.entries(config.integrations)) {
        if (integ.kind !== 'heartbeat') continue;
        if (!(await store.hasPinged(name))) await arm(name, clock.now());
      }
    },
  };
}

export type Heartbeats = ReturnType<typeof createHeartbeats>;

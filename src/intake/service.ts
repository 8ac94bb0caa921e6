import type { Clock } from '../clock.js';
import type { OpsbotConfig } from '../config.js';
import type { Escalation } from '../escalation/engine.js';
import type { IncidentRepository, IngestOutcome } from '../incidents/repository.js';
import { routeAlert } from '../incidents/routing.js';
import { warRoomChat } from '../incidents/warroom.js';
import type { SuppressionStore } from '../incidents/silences.js';
import type { Metrics } from '../metrics.js';
import type { DmSubscriptions } from '../notify/subscriptions.js';
import type { Alert } from './types.js';
import { own } from '../own.js';

export interface IngestResult {
  accepted: number;
  incidents: string[];
  outcomes: { id: string; outcome: IngestOutcome }[];
}

/**
 * Turns parsed alerts into incidents: route, check silences and maintenance, and store each alert
 * with its outbox jobs and escalation timers in one script. Resolves only once everything is in Redis.
 */
export function createIntake(deps: {
  config: OpsbotConfig;
  repo: IncidentRepository;
  escalation: Escalation;
  silences: SuppressionStore;
  maintenance: SuppressionStore;
  clock: Clock;
  metrics: Metrics;
  dms?: DmSubscriptions;
  onStored?: () => void;
  /** An alert resolved incident `id` (silence_on_ack expires its Alertmanager silence). */
  onResolved?: (id: string) => Promise<void>;
}) {
  const { config, repo, escalation, metrics, clock } = deps;

  async function ingestOne(alert: Alert) {
    const routing = routeAlert(config, alert);
    const integration = alert.integration ? own(config.integrations, alert.integration) : undefined;
    if (integration?.chat && !routing.route?.match) {
      routing.chats = [String(own(config.chats, integration.chat)!.id)];
    }
    const suppressed =
      (await deps.maintenance.matching(alert.labels)) ??
      (await deps.silences.matching(alert.labels));
    const dms = suppressed
      ? []
      : ((await deps.dms?.recipients(routing.severity)) ?? []).filter(
          (c) => !routing.chats.includes(c),
        );
    const plan = escalation.creationPlan(routing.severity, clock.now());
    // a chat with war-room topics gets the new incident's own forum topic (created by the outbox)
    const wr = warRoomChat(config, routing.chats, routing.severity);
    if (wr) plan.hset.wr_chat = wr;
    const res = await repo.ingest(alert, {
      severity: routing.severity,
      chats: routing.chats,
      notify: !suppressed,
      onCreate: { ...plan, dms },
    });
    metrics.alerts.inc({ integration: alert.integration || alert.source, outcome: res.outcome });
    if (res.outcome === 'resolved') await deps.onResolved?.(res.id).catch(() => undefined);
    return res;
  }

  return {
    async ingest(alerts: Alert[]): Promise<IngestResult> {
      const outcomes: IngestResult['outcomes'] = [];
      for (const a of alerts) outcomes.push(await ingestOne(a));
      deps.onStored?.();
      const incidents = [...new Set(outcomes.map((o) => o.id).filter(Boolean))];
      return { accepted: alerts.length, incidents, outcomes };
    },
  };
}

export type Intake = ReturnType<typeof createIntake>;

import type { Clock } from '../clock.js';
import type { OpsbotConfig } from '../config.js';
import type { Escalation } from '../escalation/engine.js';
import type { IncidentRepository, IngestOutcome, RoutedAlert } from '../store/incidents.js';
import { routeAlert } from '../incidents/routing.js';
import { warRoomChat } from '../incidents/warroom.js';
import { matchingSuppression } from '../incidents/silences.js';
import type { SuppressionSnapshot } from '../domain/suppression.js';
import type { Metrics } from '../metrics.js';
import { dmRecipients } from '../domain/subscriptions.js';
import type { Alert } from '../domain/alert.js';
import type { Severity } from '../domain/severity.js';
import { own } from '../own.js';

export interface IngestResult {
  accepted: number;
  incidents: string[];
  outcomes: { id: string; outcome: IngestOutcome }[];
}

/** The integration's request limit, counted in the same script call as the batch. */
export interface IntakeRateLimit {
  key: string;
  max: number;
  /** Counter lifetime (ms). */
  ttl: number;
}

/** The request is over its integration's rate limit: nothing was stored. */
export class RateLimitedError extends Error {
  constructor() {
    super('rate limit exceeded for this integration');
    this.name = 'RateLimitedError';
  }
}

/**
 * Turns parsed alerts into incidents: route, check silences and maintenance, and store the whole
 * batch with its outbox jobs and escalation timers in one script call. Resolves only once
 * everything is in Redis. Silences, maintenance windows and DM subscriptions come from an in-memory
 * snapshot whose version the script checks (see `SuppressionSnapshot`): one round trip per
 * request, and a change made anywhere applies to the next alert.
 */
export function createIntake(deps: {
  config: OpsbotConfig;
  repo: IncidentRepository;
  escalation: Escalation;
  /** Reads silences, maintenance windows and DM subscriptions with their version, in one round trip. */
  loadSuppressions: () => Promise<SuppressionSnapshot>;
  clock: Clock;
  metrics: Metrics;
  onStored?: () => void;
  /** An alert resolved incident `id` (silence_on_ack expires its Alertmanager silence). */
  onResolved?: (id: string) => Promise<void>;
}) {
  const { config, repo, escalation, metrics, clock } = deps;
  const known = new Set(Object.values(config.people).map((p) => String(p.telegram_id)));
  let snap: SuppressionSnapshot | undefined;
  let loading: Promise<SuppressionSnapshot> | undefined;

  function reload(): Promise<SuppressionSnapshot> {
    loading ??= deps.loadSuppressions().then(
      (s) => {
        snap = s;
        loading = undefined;
        return s;
      },
      (e: unknown) => {
        loading = undefined;
        throw e;
      },
    );
    return loading;
  }

  async function route(
    alert: Alert,
    s: SuppressionSnapshot,
    now: number,
    firstPaged: Map<Severity, Promise<string[]>>,
  ): Promise<RoutedAlert> {
    const routing = routeAlert(config, alert);
    const integration = alert.integration ? own(config.integrations, alert.integration) : undefined;
    if (integration?.chat && !routing.route?.match) {
      routing.chats = [String(own(config.chats, integration.chat)!.id)];
    }
    // only a new incident needs its silences, DMs and timers; the script ignores them otherwise,
    // but it cannot tell in advance, so every firing alert carries them (plans are shared per severity)
    const suppressed =
      matchingSuppression(s.maintenance, alert.labels, now) ??
      matchingSuppression(s.silences, alert.labels, now);
    let dms = suppressed
      ? []
      : dmRecipients(s.dmSubs, routing.severity, known).filter((c) => !routing.chats.includes(c));
    // one message per person: whoever the first escalation level pages gets that page, not a DM too
    if (dms.length) {
      let paged = firstPaged.get(routing.severity);
      if (!paged)
        firstPaged.set(
          routing.severity,
          (paged = escalation.firstLevelPeople(routing.severity, now)),
        );
      const skip = new Set(await paged);
      dms = dms.filter((c) => !skip.has(c));
    }
    const plan = escalation.creationPlan(routing.severity, now);
    // a chat with war-room topics gets the new incident's own forum topic (created by the outbox)
    const wr = warRoomChat(config, routing.chats, routing.severity);
    if (wr) plan.hset.wr_chat = wr;
    return {
      severity: routing.severity,
      chats: routing.chats,
      notify: !suppressed,
      onCreate: { ...plan, dms },
    };
  }

  return {
    /**
     * Stores a batch (validated beforehand: nothing here rejects an alert). With `rate`, the request
     * is counted against its integration's limit in the same call; over it, RateLimitedError.
     */
    async ingest(alerts: Alert[], opts: { rate?: IntakeRateLimit } = {}): Promise<IngestResult> {
      let s = snap ?? (await reload());
      let outcomes: IngestResult['outcomes'] | undefined;
      for (let attempt = 0; !outcomes; attempt++) {
        const now = clock.now();
        const firstPaged = new Map<Severity, Promise<string[]>>();
        const entries = await Promise.all(
          alerts.map(async (alert) => ({ alert, routed: await route(alert, s, now, firstPaged) })),
        );
        if (entries.length === 0 && !opts.rate) {
          outcomes = [];
          break;
        }
        const res = await repo.ingestBatch(entries, {
          now,
          // after a few reloads in a row (silences changing constantly), store without the check
          version: attempt < 3 ? s.version : undefined,
          rate: opts.rate,
        });
        if (res.kind === 'rate_limited') throw new RateLimitedError();
        if (res.kind === 'stale') s = await reload();
        else outcomes = res.results;
      }
      alerts.forEach((a, i) =>
        metrics.alerts.inc({
          integration: a.integration || a.source,
          outcome: outcomes[i]?.outcome ?? 'ignored',
        }),
      );
      deps.onStored?.();
      // silence_on_ack: an alert that resolved its incident ends the incident's Alertmanager silence
      for (const o of outcomes)
        if (o.outcome === 'resolved' && o.id) await deps.onResolved?.(o.id).catch(() => undefined);
      const incidents = [...new Set(outcomes.map((o) => o.id).filter(Boolean))];
      return { accepted: alerts.length, incidents, outcomes };
    },
  };
}

export type Intake = ReturnType<typeof createIntake>;

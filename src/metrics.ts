import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One Prometheus registry per app instance (tests run several side by side). */
export function createMetrics(opts: { defaults?: boolean } = {}) {
  const registry = new Registry();
  if (opts.defaults !== false) collectDefaultMetrics({ register: registry });
  const m = {
    registry,
    updates: new Counter({
      name: 'opsbot_updates_total',
      help: 'Telegram updates handled',
      labelNames: ['type'],
      registers: [registry],
    }),
    http: new Counter({
      name: 'opsbot_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['route', 'status'],
      registers: [registry],
    }),
    alerts: new Counter({
      name: 'opsbot_alerts_received_total',
      help: 'Alerts received by integration and outcome',
      labelNames: ['integration', 'outcome'],
      registers: [registry],
    }),
    incidentsOpen: new Gauge({
      name: 'opsbot_incidents_open',
      help: 'Open incidents by severity',
      labelNames: ['severity'],
      registers: [registry],
    }),
    outboxDepth: new Gauge({
      name: 'opsbot_outbox_depth',
      help: 'Outbox jobs waiting',
      registers: [registry],
    }),
    sends: new Counter({
      name: 'opsbot_telegram_sends_total',
      help: 'Bot API sends by method and result',
      labelNames: ['method', 'result'],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'opsbot_telegram_429_total',
      help: '429 answers from the Bot API',
      registers: [registry],
    }),
    escalations: new Counter({
      name: 'opsbot_escalations_total',
      help: 'Escalation levels fired',
      labelNames: ['result'],
      registers: [registry],
    }),
    timerDelay: new Histogram({
      name: 'opsbot_timer_fire_delay_seconds',
      help: 'Delay between a timer being due and firing',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5],
      registers: [registry],
    }),
    intakeGroups: new Histogram({
      name: 'opsbot_intake_group_requests',
      help: 'Intake requests stored per script call (group commit: more than 1 when requests arrive together)',
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers: [registry],
    }),
    runs: new Counter({
      name: 'opsbot_runbook_runs_total',
      help: 'Runbook runs by result',
      labelNames: ['result'],
      registers: [registry],
    }),
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * An Alertmanager webhook body (version 4) as Alertmanager sends it, for the intake tests: one
 * firing alert of a queue-depth rule; `over` replaces or adds top-level fields.
 */
export const amAlert = (over: Record<string, unknown> = {}) => ({
  status: 'firing',
  labels: { alertname: 'HighQueueDepth', severity: 'critical', queue: 'jobs' },
  annotations: { description: 'depth 1532', runbook_url: 'https://runbooks/queue' },
  startsAt: '2026-11-24T10:00:00Z',
  endsAt: '0001-01-01T00:00:00Z',
  generatorURL: 'http://prometheus:9090/graph?g0.expr=queue_depth',
  fingerprint: 'aa11',
  ...over,
});

export const amWebhook = (over: Record<string, unknown> = {}) => ({
  version: '4',
  groupKey: '{}/{}:{alertname="HighQueueDepth"}',
  truncatedAlerts: 0,
  status: 'firing',
  receiver: 'opsbot',
  groupLabels: { alertname: 'HighQueueDepth' },
  commonLabels: { alertname: 'HighQueueDepth', severity: 'critical' },
  commonAnnotations: { summary: 'Queue depth above 1000' },
  externalURL: 'http://alertmanager:9093',
  alerts: [amAlert()],
  ...over,
});

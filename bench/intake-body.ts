/** The Alertmanager webhook body of the intake bench: request `i` is a new group, so a new incident. */
export function amBody(i: number): string {
  return JSON.stringify({
    version: '4',
    groupKey: `{}:{alertname="Bench${i}"}`,
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'opsbot',
    groupLabels: { alertname: `Bench${i}` },
    commonLabels: { alertname: `Bench${i}`, severity: 'warning' },
    commonAnnotations: {},
    externalURL: 'http://am.local',
    alerts: [
      {
        status: 'firing',
        labels: { alertname: `Bench${i}`, severity: 'warning', instance: `host-${i}` },
        annotations: { summary: `bench alert ${i}` },
        startsAt: new Date().toISOString(),
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prom.local/g',
        fingerprint: `fp${i}`,
      },
    ],
  });
}

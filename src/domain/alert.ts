export type AlertSource =
  'alertmanager' | 'grafana' | 'generic' | 'events-v2' | 'heartbeat' | 'manual' | 'opsgenie';

export interface AlertLink {
  href: string;
  text?: string;
}

/** One alert from any source, normalised (the intake parsers produce these). */
export interface Alert {
  source: AlertSource;
  /** Name of the integration (config key) it came through. */
  integration: string;
  /** Alerts with the same dedup key belong to one incident (groupKey, dedup_key, fingerprint). */
  dedupKey: string;
  /** Identity of the alert inside its incident (an Alertmanager group holds several). */
  fingerprint: string;
  status: 'firing' | 'resolved';
  /** Events v2 `acknowledge`: acknowledges the incident without resolving it. */
  acknowledge?: boolean;
  title: string;
  description?: string;
  /** Raw severity (critical, error, warning, info, or P0..P3) before routing maps it. */
  severity?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  links: AlertLink[];
  /** ISO time the alert started firing, when the source says. */
  startsAt?: string;
  endsAt?: string;
  /** An http(s) image of the alert (Grafana's rendered panel, generic `image_url`): posted with the card. */
  imageUrl?: string;
  /** Alertmanager webhook `groupLabels` (an Alertmanager silence of the incident matches these). */
  groupLabels?: Record<string, string>;
}

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './process.js';

export const ALERTMANAGER_BIN = process.env.ALERTMANAGER_BIN ?? 'prometheus-alertmanager';

export interface AlertmanagerKit {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  /** Posts alerts through Alertmanager's API v2 (`POST /api/v2/alerts`). */
  postAlerts(alerts: AmAlert[]): Promise<void>;
  logs(): string;
  stop(): Promise<void>;
  /** `GET /api/v2/silences` (every state). */
  silences(): Promise<AmSilenceView[]>;
}

export interface AmSilenceView {
  id: string;
  matchers: { name: string; value: string; isRegex: boolean; isEqual: boolean }[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
  status: { state: 'active' | 'pending' | 'expired' };
}

/** A `receivers:` entry named opsbot sending webhooks to the app under test (`/hooks/alertmanager`). */
export function webhookReceiver(appUrl: string, token: string): string {
  return `  - name: opsbot
    webhook_configs:
      - url: ${appUrl}/hooks/alertmanager
        send_resolved: true
        http_config:
          authorization:
            credentials: ${token}`;
}

export interface AmAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  /** In the past: the alert is resolved. */
  endsAt?: string;
  generatorURL?: string;
}

/**
 * Starts the real Alertmanager binary (Debian's prometheus-alertmanager) on a free port with its own
 * storage path and no clustering. `receivers` is the YAML list under `receivers:` (the route sends
 * everything to the first one, named `opsbot`); grouping is by alertname with 1s waits so tests see
 * notifications within seconds.
 */
export async function startAlertmanager(o: {
  receivers: string;
  /** Listen on this port (e.g. one the app's config already names); a free one otherwise. */
  port?: number;
}): Promise<AlertmanagerKit> {
  const port = o.port ?? (await freePort());
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opsbot-am-'));
  const config = `route:
  receiver: opsbot
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
${o.receivers}
`;
  writeFileSync(path.join(dir, 'alertmanager.yml'), config);
  const child: ChildProcess = spawn(
    ALERTMANAGER_BIN,
    [
      `--config.file=${path.join(dir, 'alertmanager.yml')}`,
      `--storage.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=debug',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`alertmanager exited:\n${out}`);
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`alertmanager did not become ready:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async postAlerts(alerts) {
      const res = await fetch(`${url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alerts),
      });
      if (!res.ok)
        throw new Error(`alertmanager refused alerts: ${res.status} ${await res.text()}`);
    },
    logs: () => out,
    async silences() {
      const res = await fetch(`${url}/api/v2/silences`);
      if (!res.ok) throw new Error(`alertmanager silences: ${res.status}`);
      return (await res.json()) as AmSilenceView[];
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

import path from 'node:path';
import { parseConfig, type OpsbotConfig } from '../../src/config.js';

export const GROUP = -1001000000001;
export const LEADS = -1001000000002;
export const PEOPLE = { alice: 1001, bob: 1002, root: 1003, carol: 1004, viewer: 1005 } as const;
export const STRANGER = 4242;

export const TOKENS = {
  prometheus: 'prom-token-123456',
  grafana: 'grafana-token-123456',
  ci: 'ci-token-1234567890',
  pd: 'pd-routing-key-123456',
  backups: 'hb-token-1234567890',
  api: 'api-token-123456',
};

/** A full test config; durations are short so integration tests run in seconds. */
export function testConfigYaml(
  over: { levels?: string; severities?: string; extra?: string } = {},
): string {
  return `
locale: en
chats:
  ops: { id: ${GROUP} }
  leads: { id: ${LEADS}, thread_id: 7 }
people:
  alice: { telegram_id: ${PEOPLE.alice}, roles: [responder, approver] }
  bob: { telegram_id: ${PEOPLE.bob}, roles: [responder] }
  root: { telegram_id: ${PEOPLE.root}, roles: [admin] }
  carol: { telegram_id: ${PEOPLE.carol}, roles: [approver] }
  vic: { telegram_id: ${PEOPLE.viewer}, roles: [viewer] }
schedules:
  primary:
    rotation: { start: "2026-01-05T09:00:00Z", shift: 7d, members: [alice, bob] }
escalation_policies:
  critical:
    levels:
${
  over.levels ??
  `      - { after: 0s, notify: ["chat:ops"] }
      - { after: 1h, notify: ["person:root"] }`
}
severities:
${
  over.severities ??
  `  P0: { ack_within: 15m, update_every: 30m, policy: critical }
  P1: { ack_within: 1h, update_every: 30m, policy: critical }
  P2: { ack_within: 4h, update_every: 2h, policy: critical }
  P3: { ack_within: 1d, policy: critical }`
}
routes:
  - { match: { team: leads }, chat: leads }
  - { match: { service: "=~api-.*" }, chat: ops }
  - { chat: ops }
integrations:
  prometheus: { kind: alertmanager, token: "${TOKENS.prometheus}" }
  grafana: { kind: grafana, token: "${TOKENS.grafana}" }
  ci: { kind: generic, token: "${TOKENS.ci}", rate_limit: { max: 1000, per: 1m } }
  pd: { kind: events-v2, token: "${TOKENS.pd}" }
  backups: { kind: heartbeat, token: "${TOKENS.backups}", every: 1h }
api_token: "${TOKENS.api}"
runbooks_dir: ${path.resolve('commands')}
${over.extra ?? ''}
# tests fire commands faster than people do; test/integration/access.test.ts checks the default
limits: { commands_per_minute: 1000 }

`;
}

export function testConfig(over: Parameters<typeof testConfigYaml>[0] = {}): OpsbotConfig {
  return parseConfig(testConfigYaml(over), {});
}

/** Adds chats to a test config's `chats:` (the bot answers only in configured groups). */
export function withChats(yaml: string, chats: Record<string, number>): string {
  const lines = Object.entries(chats).map(([n, id]) => `  ${n}: { id: ${id} }\n`);
  return yaml.replace('chats:\n', `chats:\n${lines.join('')}`);
}

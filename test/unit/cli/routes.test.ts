import { describe, expect, it } from 'vitest';
import { routeTest } from '../../../src/cli/routes.js';
import { testConfig } from '../../helpers/config.js';

const now = Date.parse('2026-01-06T10:00:00Z');

describe('routes test output', () => {
  it('prints a war room only when the chat configures one, and whether this severity opens it', () => {
    const config = testConfig();
    expect(routeTest(config, { labels: { team: 'leads' }, now }).join('\n')).not.toContain(
      'war room',
    );
    // war_room comes with another change to the config schema; the CLI reads it defensively
    Object.assign(config.chats.leads!, { war_room: { topics: true, min_severity: 'P1' } });
    const p0 = routeTest(config, { labels: { team: 'leads', severity: 'critical' }, now });
    expect(p0).toContain('war room: leads: yes (topics for P1 and above; this alert is P0)');
    const p2 = routeTest(config, { labels: { team: 'leads' }, severity: 'warning', now });
    expect(p2).toContain('war room: leads: no (topics for P1 and above; this alert is P2)');
  });

  it('no route matching names the default chat; no policy says nobody is paged', () => {
    const config = testConfig({ severities: '  P0: { ack_within: 15m }' });
    config.routes = [];
    const lines = routeTest(config, { labels: { x: 'y' }, now });
    expect(lines).toContain('route:    none matches; the first chat is the default');
    expect(lines).toContain('chat:     ops (chat -1001000000001)');
    expect(lines).toContain('policy:   none (nobody is paged; the incident is posted only)');
  });
});

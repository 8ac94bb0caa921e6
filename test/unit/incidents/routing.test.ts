import { describe, expect, it } from 'vitest';
import { matchLabels, routeAlert } from '../../../src/incidents/routing.js';
import type { Alert } from '../../../src/domain/alert.js';
import { GROUP, LEADS, testConfig } from '../../helpers/config.js';

const alert = (labels: Record<string, string>, severity?: string): Alert => ({
  source: 'generic',
  integration: 'ci',
  dedupKey: 'k',
  fingerprint: 'k',
  status: 'firing',
  title: 't',
  labels,
  annotations: {},
  links: [],
  severity,
});

describe('routing', () => {
  it('matches equality, regex and negation', () => {
    expect(matchLabels({ a: 'x' }, { a: 'x' })).toBe(true);
    expect(matchLabels({ a: '=~api-.*' }, { a: 'api-gw' })).toBe(true);
    expect(matchLabels({ a: '=~api-.*' }, { a: 'xapi-gw' })).toBe(false);
    expect(matchLabels({ a: '!=x' }, { a: 'y' })).toBe(true);
    expect(matchLabels({ a: '!=x' }, { a: 'x' })).toBe(false);
    expect(matchLabels({ a: '!~x.*' }, {})).toBe(true);
  });

  it('first match wins, with forum topics and default route', () => {
    const cfg = testConfig();
    expect(routeAlert(cfg, alert({ team: 'leads' })).chats).toEqual([`${LEADS}:7`]);
    expect(routeAlert(cfg, alert({ service: 'api-gw' })).chats).toEqual([String(GROUP)]);
    expect(routeAlert(cfg, alert({})).chats).toEqual([String(GROUP)]);
  });

  it('maps severities as the contract says', () => {
    const cfg = testConfig();
    expect(routeAlert(cfg, alert({}, 'critical')).severity).toBe('P0');
    expect(routeAlert(cfg, alert({}, 'error')).severity).toBe('P1');
    expect(routeAlert(cfg, alert({}, 'high')).severity).toBe('P1');
    expect(routeAlert(cfg, alert({}, 'warning')).severity).toBe('P2');
    expect(routeAlert(cfg, alert({}, 'info')).severity).toBe('P3');
    expect(routeAlert(cfg, alert({ severity: 'critical' })).severity).toBe('P0');
    expect(routeAlert(cfg, alert({}, 'whatever')).severity).toBe('P3');
  });
});

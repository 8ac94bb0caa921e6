import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/errors.js';
import { genieKey } from '../../../src/http/opsgenie.js';
import { parseOpsgenieCreate } from '../../../src/intake/opsgenie.js';

describe('Opsgenie create → Alert', () => {
  it('maps alias to the dedup key, priority to severity, details and key:value tags to labels', () => {
    const { alert, alias } = parseOpsgenieCreate(
      {
        message: '  Disk full  ',
        alias: 'disk-db-1',
        description: 'd',
        priority: 'P4',
        tags: ['team:db', 'urgent'],
        details: { instance: 'db-1', count: 3, nested: { a: 1 } },
        entity: 'db-1',
        source: 'cron',
        responders: [{ type: 'team', name: 'ops' }],
      },
      'og',
    );
    expect(alias).toBe('disk-db-1');
    expect(alert).toMatchObject({
      source: 'opsgenie',
      integration: 'og',
      dedupKey: 'og:disk-db-1',
      fingerprint: 'disk-db-1',
      status: 'firing',
      title: 'Disk full',
      severity: 'P3',
      labels: { instance: 'db-1', count: '3', nested: '{"a":1}', team: 'db' },
      annotations: { tags: 'team:db, urgent', entity: 'db-1', source: 'cron' },
    });
  });

  it('without priority the severity label decides, else Opsgenie default P3 (→ P2)', () => {
    expect(
      parseOpsgenieCreate({ message: 'x', details: { severity: 'critical' } }, 'og').alert.severity,
    ).toBe('critical');
    expect(parseOpsgenieCreate({ message: 'x' }, 'og').alert.severity).toBe('P2');
  });

  it('without alias a repeated message keeps one dedup key', () => {
    const a = parseOpsgenieCreate({ message: 'same' }, 'og').alias;
    expect(parseOpsgenieCreate({ message: 'same' }, 'og').alias).toBe(a);
    expect(parseOpsgenieCreate({ message: 'other' }, 'og').alias).not.toBe(a);
  });

  it('rejects a missing message and unknown priorities with path-level issues', () => {
    expect(() => parseOpsgenieCreate({ alias: 'x' }, 'og')).toThrow(ValidationError);
    try {
      parseOpsgenieCreate({ message: 'x', priority: 'P0' }, 'og');
    } catch (e) {
      expect((e as ValidationError).issues[0]!.path).toBe('priority');
    }
  });

  it('reads the GenieKey scheme only', () => {
    expect(genieKey('GenieKey abc-123')).toBe('abc-123');
    expect(genieKey('geniekey abc')).toBe('abc');
    expect(genieKey('Bearer abc')).toBeUndefined();
    expect(genieKey(undefined)).toBeUndefined();
  });
});

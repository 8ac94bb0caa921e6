import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config.js';
import { nextOnCall, onCallAt } from '../../../src/escalation/schedule.js';
import { testConfigYaml } from '../../helpers/config.js';

const cfg = parseConfig(
  testConfigYaml().replace(
    'rotation: { start: "2026-01-05T09:00:00Z", shift: 7d, members: [alice, bob] }',
    'rotation: { start: "2026-01-05T09:00:00Z", shift: 7d, members: [alice, bob] }\n    overrides: [ { person: root, from: "2026-01-08T00:00:00Z", to: "2026-01-09T00:00:00Z" } ]',
  ),
  {},
);
const s = cfg.schedules.primary!;
const T = (iso: string) => Date.parse(iso);

describe('on-call schedule', () => {
  it('nobody before the rotation starts', () => {
    expect(onCallAt(s, T('2026-01-05T08:59:59Z'))).toBeUndefined();
  });

  it('hands over exactly at the shift boundary', () => {
    expect(onCallAt(s, T('2026-01-05T09:00:00Z'))?.person).toBe('alice');
    expect(onCallAt(s, T('2026-01-12T08:59:59.999Z'))?.person).toBe('alice');
    expect(onCallAt(s, T('2026-01-12T09:00:00Z'))?.person).toBe('bob');
    expect(onCallAt(s, T('2026-01-19T09:00:00Z'))?.person).toBe('alice');
  });

  it('overrides win inside their window only', () => {
    expect(onCallAt(s, T('2026-01-07T23:59:59Z'))?.person).toBe('alice');
    const o = onCallAt(s, T('2026-01-08T12:00:00Z'));
    expect(o).toMatchObject({ person: 'root', override: true });
    expect(onCallAt(s, T('2026-01-09T00:00:00Z'))?.person).toBe('alice');
  });

  it('runtime overrides stack on configured ones, latest start wins', () => {
    const extra = [
      { person: 'bob', from: T('2026-01-08T06:00:00Z'), to: T('2026-01-08T08:00:00Z') },
    ];
    expect(onCallAt(s, T('2026-01-08T07:00:00Z'), extra)?.person).toBe('bob');
    expect(onCallAt(s, T('2026-01-08T09:00:00Z'), extra)?.person).toBe('root');
  });

  it('tells who is next', () => {
    expect(nextOnCall(s, T('2026-01-06T00:00:00Z'))).toMatchObject({
      person: 'root',
      from: T('2026-01-08T00:00:00Z'),
    });
    expect(nextOnCall(s, T('2026-01-10T00:00:00Z'))).toMatchObject({
      person: 'bob',
      from: T('2026-01-12T09:00:00Z'),
    });
  });
});

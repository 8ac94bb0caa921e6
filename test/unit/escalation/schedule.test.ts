import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config.js';
import { nextOnCall, onCallAt } from '../../../src/escalation/schedule.js';
import { formatTimeIn } from '../../../src/timezone.js';
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

describe('handoff_tz: handovers keep their wall-clock time across daylight saving', () => {
  const zoned = (tz: string, shift = '1d') =>
    parseConfig(
      testConfigYaml().replace(
        'rotation: { start: "2026-01-05T09:00:00Z", shift: 7d, members: [alice, bob] }',
        // 09:00 in Berlin (CET, UTC+1) on Friday 27 March; CEST (UTC+2) starts on Sunday 29 March
        `rotation: { start: "2026-03-27T08:00:00Z", shift: ${shift}, members: [alice, bob]${tz ? `, handoff_tz: ${tz}` : ''} }`,
      ),
      {},
    ).schedules.primary!;

  it('a daily 09:00 Berlin handover moves from 08:00Z to 07:00Z when summer time starts', () => {
    const z = zoned('Europe/Berlin');
    expect(onCallAt(z, T('2026-03-27T08:00:00Z'))?.person).toBe('alice');
    expect(onCallAt(z, T('2026-03-28T08:00:00Z'))?.person).toBe('bob');
    // 29 March, 07:30Z is 09:30 CEST: the third shift (alice) has begun at 07:00Z
    const now = onCallAt(z, T('2026-03-29T07:30:00Z'))!;
    expect(now.person).toBe('alice');
    expect(new Date(now.from).toISOString()).toBe('2026-03-29T07:00:00.000Z');
    expect(new Date(now.to).toISOString()).toBe('2026-03-30T07:00:00.000Z');
    // the shift before it lasted 23 hours
    const before = onCallAt(z, T('2026-03-29T06:59:59Z'))!;
    expect(before.person).toBe('bob');
    expect(now.from - before.from).toBe(23 * 3600_000);
    // and in autumn back to 08:00Z (25 October 2026)
    expect(new Date(onCallAt(z, T('2026-10-26T08:30:00Z'))!.from).toISOString()).toBe(
      '2026-10-26T08:00:00.000Z',
    );
    expect(nextOnCall(z, T('2026-03-28T12:00:00Z'))?.from).toBe(T('2026-03-29T07:00:00Z'));
  });

  it('shows handovers in the zone: 09:00 Berlin on both sides of the change', () => {
    const z = zoned('Europe/Berlin');
    const a = onCallAt(z, T('2026-03-28T12:00:00Z'))!;
    const b = onCallAt(z, T('2026-03-29T12:00:00Z'))!;
    expect(formatTimeIn(a.to, 'Europe/Berlin')).toBe('2026-03-29 09:00 Europe/Berlin');
    expect(formatTimeIn(b.to, 'Europe/Berlin')).toBe('2026-03-30 09:00 Europe/Berlin');
    expect(formatTimeIn(b.to)).toBe('2026-03-30 07:00 UTC');
  });

  it('without a zone, shifts are fixed lengths of absolute time', () => {
    const u = zoned('');
    expect(onCallAt(u, T('2026-03-29T07:30:00Z'))?.person).toBe('bob');
    expect(onCallAt(u, T('2026-03-29T08:00:00Z'))?.person).toBe('alice');
  });

  it('rejects an unknown zone and a zone on a shift that is not whole days, naming the path', () => {
    expect(() => zoned('Mars/Olympus')).toThrow(
      /schedules\.primary\.rotation\.handoff_tz.*time zone/,
    );
    expect(() => zoned('Europe/Berlin', '12h')).toThrow(
      /schedules\.primary\.rotation\.handoff_tz.*whole days/,
    );
  });
});

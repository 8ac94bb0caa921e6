import ICAL from 'ical.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { parseConfig } from '../../src/config.js';
import type { TestApp } from '../helpers/app.js';
import { build } from '../helpers/build.js';
import { GROUP, PEOPLE, testConfigYaml } from '../helpers/config.js';
import type { TelegramKit } from '../helpers/telegram.js';

const CAL_TOKEN = 'calendar-token-1234567890';
const config = parseConfig(
  testConfigYaml({
    extra: `calendar_token: "${CAL_TOKEN}"\npublic_url: "https://opsbot.example.com/"\n`,
  }).replace(
    'rotation: { start: "2026-01-05T09:00:00Z", shift: 7d, members: [alice, bob] }',
    'rotation: { start: "2026-01-05T09:00:00Z", shift: 7d, members: [alice, bob, carol], handoff_tz: Europe/Berlin }',
  ),
  {},
);
// alice on call Mar 9 10:00 Berlin (09:00 UTC) to Mar 16; the window crosses the change to summer
// time on Mar 29: handovers stay at 10:00 Berlin, 08:00 UTC from Mar 30
const NOW = Date.parse('2026-03-10T10:00:00Z');
const clock = new FakeClock(NOW);
const H = 3_600_000;

let kit: TelegramKit;
let t: TestApp;
beforeAll(async () => {
  ({ kit, t } = await build({ storeTimeout: 3600, config, clock }));
  const s = t.app.services;
  // a plain override (carol for a day in bob's week) and an accepted cover (bob covers alice 2h)
  await s.scripts.overrideAdd(NOW, 'primary', [
    {
      person: 'carol',
      from: Date.parse('2026-03-20T00:00:00Z'),
      to: Date.parse('2026-03-21T00:00:00Z'),
    },
  ]);
  const plan = await s.trades.planCover('primary', 'alice', 2 * H, 'bob');
  if (typeof plan === 'string') throw new Error(plan);
  const rec = await s.trades.create(
    plan,
    { name: 'alice', telegramId: PEOPLE.alice },
    String(GROUP),
  );
  const d = await s.trades.decide(rec.id, { name: 'bob', telegramId: PEOPLE.bob }, true);
  expect(d.outcome).toBe('accepted');
});

const get = (path: string) => fetch(`${t.url}${path}`);

interface Ev {
  uid: string;
  from: number;
  to: number;
  summary: string;
  description: string;
}
/** Parses a feed with ical.js, its VTIMEZONEs registered first so TZID times resolve. */
function parse(text: string): Ev[] {
  const first = new ICAL.Component(ICAL.parse(text));
  for (const tz of first.getAllSubcomponents('vtimezone')) ICAL.TimezoneService.register(tz);
  const cal = new ICAL.Component(ICAL.parse(text));
  return cal.getAllSubcomponents('vevent').map((v) => {
    const e = new ICAL.Event(v);
    return {
      uid: e.uid,
      from: e.startDate.toUnixTime() * 1000,
      to: e.endDate.toUnixTime() * 1000,
      summary: e.summary,
      description: e.description ?? '',
    };
  });
}
const personOf = (e: Ev) => /On call: (\w+) \(/.exec(e.summary)?.[1];

describe('calendar feeds', () => {
  it('refuses a missing or wrong token with 401', async () => {
    expect((await get('/api/v1/schedules/primary.ics')).status).toBe(401);
    expect((await get('/api/v1/schedules/primary.ics?token=nope')).status).toBe(401);
    expect((await get(`/api/v1/schedules/primary.ics?token=${CAL_TOKEN}x`)).status).toBe(401);
    expect((await get(`/api/v1/people/alice.ics?token=`)).status).toBe(401);
    expect((await get(`/api/v1/schedules/nope.ics?token=${CAL_TOKEN}`)).status).toBe(404);
    expect((await get(`/api/v1/schedules/constructor.ics?token=${CAL_TOKEN}`)).status).toBe(404);
  });

  it('a schedule feed is RFC 5545 and agrees with /oncall across handovers, an override, a cover and DST', async () => {
    const res = await get(`/api/v1/schedules/primary.ics?token=${CAL_TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/calendar/);
    const text = await res.text();
    // CRLF everywhere, no physical line over 75 octets, a VTIMEZONE for the TZID used
    expect(text.endsWith('\r\n')).toBe(true);
    expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    for (const line of text.split('\r\n')) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(75);
    expect(text).toContain('BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin');
    expect(text).toContain('DTSTART;TZID=Europe/Berlin:20260330T100000');
    expect(text).toMatch(/DTSTAMP:20260310T100000Z/);

    const evs = parse(text);
    const s = t.app.services;
    const expected: [string, string, string][] = [
      // alice's piece before the cover ended now: the feed starts with what holds now
      ['bob', '2026-03-10T10:00:00Z', '2026-03-10T12:00:00Z'], // the accepted cover
      ['alice', '2026-03-10T12:00:00Z', '2026-03-16T09:00:00Z'],
      ['bob', '2026-03-16T09:00:00Z', '2026-03-20T00:00:00Z'],
      ['carol', '2026-03-20T00:00:00Z', '2026-03-21T00:00:00Z'], // the override
      ['bob', '2026-03-21T00:00:00Z', '2026-03-23T09:00:00Z'],
      ['carol', '2026-03-23T09:00:00Z', '2026-03-30T08:00:00Z'], // summer time from Mar 29
      ['alice', '2026-03-30T08:00:00Z', '2026-04-06T08:00:00Z'],
    ];
    expect(
      evs.slice(0, expected.length).map((e) => [personOf(e), new Date(e.from), new Date(e.to)]),
    ).toEqual(expected.map(([p, f, to]) => [p, new Date(f), new Date(to)]));
    expect(evs[0]!.description).toBe('bob covers alice');
    expect(evs[3]!.description).toBe('Override: carol');
    expect(evs[0]!.uid).toBe(`primary-${NOW / 1000}-bob@opsbot`);
    expect(evs[1]!.uid).toBe(`primary-${NOW / 1000 + 7200}-alice@opsbot`);
    // 60 days ahead, and every event agrees with the schedule code /oncall uses
    const last = evs[evs.length - 1]!;
    expect(last.to).toBeGreaterThanOrEqual(NOW + 60 * 86_400_000);
    expect(last.from).toBeLessThan(NOW + 60 * 86_400_000);
    for (const e of evs) {
      expect((await s.escalation.onCall('primary', Math.max(e.from, NOW)))!.person).toBe(
        personOf(e),
      );
      expect((await s.escalation.onCall('primary', e.to - 1))!.person).toBe(personOf(e));
    }
    // /oncall in the chat says the same about now
    await kit.user({ id: PEOPLE.alice, chatId: GROUP, chatType: 'supergroup' }).command('/oncall');
    const oc = await kit.waitForMessage((m) => m.chatId === GROUP && m.text.includes('On call'));
    expect(oc.text).toContain('<b>primary</b>: bob (covering for alice) until 2026-03-10 13:00');
    expect(oc.text).toContain('next alice from 2026-03-10 13:00');
  });

  it('UIDs are stable across fetches, also as time moves on', async () => {
    const url = `/api/v1/schedules/primary.ics?token=${CAL_TOKEN}`;
    const a = parse(await (await get(url)).text());
    const b = parse(await (await get(url)).text());
    expect(b.map((e) => e.uid)).toEqual(a.map((e) => e.uid));
    clock.advance(3 * H);
    try {
      const c = parse(await (await get(url)).text());
      const before = new Set(a.map((e) => e.uid));
      // the cover is over; everything still ahead keeps its UID
      for (const e of c.slice(0, -1)) expect([e.uid, before.has(e.uid)]).toEqual([e.uid, true]);
      expect(c[0]!.uid).toBe(a[1]!.uid);
    } finally {
      clock.set(NOW);
    }
  });

  it('a person feed has only their shifts', async () => {
    const res = await get(`/api/v1/people/bob.ics?token=${CAL_TOKEN}`);
    expect(res.status).toBe(200);
    const evs = parse(await res.text());
    expect(evs.length).toBeGreaterThan(2);
    expect(evs.every((e) => e.summary === 'On call: primary')).toBe(true);
    expect(new Date(evs[0]!.from)).toEqual(new Date('2026-03-10T10:00:00Z'));
  });

  it('/calendar mints a personal token (stored hashed) that reads its own feeds; revoke ends it', async () => {
    const dm = kit.user({ id: PEOPLE.alice, chatId: PEOPLE.alice, chatType: 'private' });
    await dm.command('/calendar');
    const m = await kit.waitForMessage(
      (x) => x.chatId === PEOPLE.alice && x.text.includes('Your calendar feeds'),
    );
    const token = /people\/alice\.ics\?token=([A-Za-z0-9_-]+)/.exec(m.text)?.[1];
    expect(token).toBeTruthy();
    expect(m.text).toContain('https://opsbot.example.com/api/v1/schedules/primary.ics?token=');
    expect((await get(`/api/v1/people/alice.ics?token=${token}`)).status).toBe(200);
    expect((await get(`/api/v1/schedules/primary.ics?token=${token}`)).status).toBe(200);
    expect((await get(`/api/v1/people/bob.ics?token=${token}`)).status).toBe(403);
    // Redis holds only its sha256
    const s = t.app.services;
    const keys = await s.redis.keys(`${t.prefix}cal:*`);
    expect(keys.length).toBe(2);
    for (const k of keys) {
      expect(k).not.toContain(token!);
      expect(await s.redis.get(k)).not.toContain(token!);
    }
    await dm.command('/calendar revoke');
    await kit.waitForMessage((x) => x.chatId === PEOPLE.alice && x.text.includes('revoked'));
    expect((await get(`/api/v1/people/alice.ics?token=${token}`)).status).toBe(401);
    const audit = await s.audit.recent(20);
    expect(audit).toContainEqual(
      expect.objectContaining({ action: 'calendar.mint', actor: 'alice', actor_id: PEOPLE.alice }),
    );
    // in a group, no token is handed out
    await kit
      .user({ id: PEOPLE.alice, chatId: GROUP, chatType: 'supergroup' })
      .command('/calendar');
    await kit.waitForMessage((x) => x.chatId === GROUP && x.text.includes('private chat'));
  });
});

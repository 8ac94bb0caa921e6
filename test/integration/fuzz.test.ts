import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { parseRunArgs, tokenizeArgs } from '../../src/runbooks/params.js';
import type { TestApp } from '../helpers/app.js';
import { build } from '../helpers/build.js';
import { TOKENS } from '../helpers/config.js';

// property-based hostile input: every intake route answers 2xx/4xx, never 5xx, and a 4xx stores nothing
let t: TestApp;
beforeAll(async () => {
  ({ t } = await build({ polling: false }));
  await t.app.services.outbox.stop(); // only what is stored matters here
});

const nasty = fc.oneof(
  fc.string({ maxLength: 50 }),
  fc.constantFrom(
    '<b>x</b>',
    '<script>alert(1)</script>',
    '*bold* _x_ `code`',
    '\u0000\ud800',
    '😀'.repeat(10),
    'a'.repeat(5000),
    '../../etc/passwd',
    '$(id)',
    'firing',
    'resolved',
    'critical',
  ),
);
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.double(),
    fc.integer(),
    nasty,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(nasty, tie('value'), { maxKeys: 5 }),
  ),
})).value;

const alertish = fc.record(
  {
    title: nasty,
    status: fc.constantFrom('firing', 'resolved', 'weird'),
    severity: nasty,
    dedup_key: nasty,
    labels: fc.dictionary(nasty, fc.oneof(nasty, fc.integer()), { maxKeys: 300 }),
    description: nasty,
    link: fc.constantFrom('https://ok.example', 'javascript:alert(1)', 'x'),
  },
  { requiredKeys: [] },
);
const amish = fc.record(
  {
    version: fc.constant('4'),
    groupKey: nasty,
    status: fc.constantFrom('firing', 'resolved'),
    alerts: fc.array(
      fc.record(
        {
          status: fc.constantFrom('firing', 'resolved', 'x'),
          labels: fc.dictionary(nasty, nasty, { maxKeys: 5 }),
          annotations: fc.dictionary(nasty, json, { maxKeys: 3 }),
          fingerprint: nasty,
        },
        { requiredKeys: [] },
      ),
      { maxLength: 3 },
    ),
    commonLabels: fc.dictionary(nasty, nasty, { maxKeys: 3 }),
  },
  { requiredKeys: [] },
);
const ev2ish = fc.record(
  {
    routing_key: fc.constant(TOKENS.pd),
    event_action: fc.constantFrom('trigger', 'acknowledge', 'resolve', 'nope'),
    dedup_key: nasty,
    payload: fc.record(
      {
        summary: nasty,
        source: nasty,
        severity: fc.constantFrom('critical', 'error', 'warning', 'info', 'x'),
        custom_details: fc.dictionary(nasty, json, { maxKeys: 3 }),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: [] },
);

async function inject(url: string, payload: unknown, token?: string) {
  return t.app.http.inject({
    method: 'POST',
    url,
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
}
const incCount = () => t.app.services.redis.get(t.app.services.keys.seq());

describe('hostile input (fast-check, 1,000 cases per route)', () => {
  const routes: [string, fc.Arbitrary<unknown>, string | undefined][] = [
    ['/hooks/generic', fc.oneof(json, alertish, fc.array(alertish, { maxLength: 3 })), TOKENS.ci],
    ['/hooks/alertmanager', fc.oneof(json, amish), TOKENS.prometheus],
    ['/hooks/grafana', fc.oneof(json, amish), TOKENS.grafana],
    ['/v2/enqueue', fc.oneof(json, ev2ish), undefined],
  ];
  for (const [url, arb, token] of routes) {
    it(`${url}: always 202 or a 4xx with an error; a 4xx stores nothing`, async () => {
      await fc.assert(
        fc.asyncProperty(arb, async (body) => {
          const before = await incCount();
          const res = await inject(url, body, token);
          expect([202, 400, 401, 413, 415]).toContain(res.statusCode);
          if (res.statusCode !== 202) {
            expect(JSON.parse(res.body).error).toBeTruthy();
            expect(await incCount()).toBe(before);
          }
        }),
        { numRuns: 1000 },
      );
    });
  }

  it('invalid UTF-8, deep JSON and oversize bodies are refused cleanly', async () => {
    // the 1,000 runs above used up ci's rate limit, which counts every request before its body is read
    const w = Math.floor(t.app.services.clock.now() / 60_000);
    const { redis, keys } = t.app.services;
    await redis.del(keys.rate(`ci:${w}`), keys.rate(`ci:${w - 1}`));
    const bad = Buffer.from([
      0x7b, 0x22, 0x74, 0x69, 0x74, 0x6c, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d,
    ]);
    const r1 = await t.app.http.inject({
      method: 'POST',
      url: '/hooks/generic',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.ci}` },
      payload: bad,
    });
    expect([202, 400]).toContain(r1.statusCode);
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const r2 = await inject('/hooks/generic', deep, TOKENS.ci);
    expect(r2.statusCode).toBe(400);
    const r3 = await inject(
      '/hooks/generic',
      { title: 'x'.repeat(2 * 1024 * 1024), status: 'firing' },
      TOKENS.ci,
    );
    expect(r3.statusCode).toBe(413);
    const r4 = await inject(
      '/hooks/generic',
      {
        title: '<b>x</b> & <i>',
        status: 'firing',
        labels: Object.fromEntries(
          Array.from({ length: 150 }, (_, i) => [`l${i}`, 'v'.repeat(100)]),
        ),
      },
      TOKENS.ci,
    );
    expect(r4.statusCode).toBe(202);
    const id = JSON.parse(r4.body).incidents[0] as string;
    expect((await t.app.services.repo.get(id))?.title).toBe('<b>x</b> & <i>');
  });
});

describe('command parsing (fast-check)', () => {
  it('tokenizing and parsing /run arguments never throws anything but a ValidationError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        for (const fn of [tokenizeArgs, parseRunArgs]) {
          try {
            fn(s);
          } catch (e) {
            expect(e).toBeInstanceOf(ValidationError);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});

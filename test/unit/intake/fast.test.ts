import { describe, expect, it } from 'vitest';
import { amPayload, fastAmPayload } from '../../../src/intake/alertmanager.js';
import { amAlert, amWebhook } from '../../helpers/am-webhook.js';

const body = (over: Record<string, unknown> = {}, alertOver: Record<string, unknown> = {}) =>
  amWebhook({ alerts: [amAlert(alertOver)], ...over });

const many = (n: number, v = 'x') =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, v]));

/** Bodies the fast path takes, and bodies it must leave to zod (valid or not). */
const cases: [string, unknown][] = [
  ['typical', body()],
  [
    'optional fields absent',
    { groupKey: 'g', status: 'resolved', alerts: [{ status: 'resolved', labels: {} }] },
  ],
  ['unknown keys dropped', body({ extra: 1, nested: { a: 1 } }, { extra: 'x', valueString: 'v' })],
  [
    'numbers and booleans coerced',
    body({ commonLabels: { n: 5, b: true, f: 1.5 } }, { labels: { z: 0 } }),
  ],
  [
    'NUL and lone surrogates cleaned',
    body({ groupLabels: { 'a\u0000b': 'x\u0000y', ['s\ud800']: '\udc00' } }),
  ],
  [
    'integer-like label names keep their order',
    body({ commonLabels: { b: '1', 2: 'x', a: '2', 1: 'y' } }),
  ],
  ['long annotation truncated', body({ commonAnnotations: { d: 'a'.repeat(5000) } })],
  ['annotation at the limit', body({}, { annotations: { d: 'a'.repeat(4096) } })],
  ['label value at the limit', body({}, { labels: { d: 'a'.repeat(4096) } })],
  ['label value over the limit', body({}, { labels: { d: 'a'.repeat(4097) } })],
  [
    'label value over the limit before NULs go',
    body({}, { labels: { d: 'a'.repeat(4096) + '\u0000' } }),
  ],
  ['label name of 200', body({ commonLabels: { ['n'.repeat(200)]: 'x' } })],
  ['label name of 201', body({ commonLabels: { ['n'.repeat(201)]: 'x' } })],
  ['200 labels', body({}, { labels: many(200) })],
  ['201 labels', body({}, { labels: many(201) })],
  ['201 annotations', body({ commonAnnotations: many(201) })],
  ['null label value', body({}, { labels: { a: null } })],
  ['object label value', body({}, { labels: { a: { b: 1 } } })],
  ['labels an array', body({}, { labels: ['a'] })],
  ['labels missing', { groupKey: 'g', status: 'firing', alerts: [{ status: 'firing' }] }],
  [
    '__proto__ label',
    JSON.parse(
      '{"groupKey":"g","status":"firing","alerts":[{"status":"firing","labels":{"__proto__":"x","a":"b"}}]}',
    ),
  ],
  ['bad status', body({ status: 'pending' })],
  ['bad alert status', body({}, { status: 'pending' })],
  ['empty groupKey', body({ groupKey: '' })],
  ['groupKey too long', body({ groupKey: 'g'.repeat(4097) })],
  ['version too long', body({ version: 'v'.repeat(17) })],
  ['version a number', body({ version: 4 })],
  ['null receiver', body({ receiver: null })],
  ['truncatedAlerts 3', body({ truncatedAlerts: 3 })],
  ['truncatedAlerts negative', body({ truncatedAlerts: -1 })],
  ['truncatedAlerts fractional', body({ truncatedAlerts: 1.5 })],
  ['truncatedAlerts huge', body({ truncatedAlerts: 2 ** 60 })],
  ['truncatedAlerts a string', body({ truncatedAlerts: '1' })],
  ['no alerts', body({ alerts: [] })],
  ['1,000 alerts', body({ alerts: Array.from({ length: 1000 }, () => amAlert()) })],
  ['1,001 alerts', body({ alerts: Array.from({ length: 1001 }, () => amAlert()) })],
  ['fingerprint too long', body({}, { fingerprint: 'f'.repeat(129) })],
  ['startsAt too long', body({}, { startsAt: 's'.repeat(65) })],
  ['generatorURL of 2048', body({}, { generatorURL: 'h'.repeat(2048) })],
  ['externalURL too long', body({ externalURL: 'h'.repeat(2049) })],
  ['alert null', body({ alerts: [null] })],
  ['body an array', [body()]],
  ['body null', null],
  ['body a string', 'x'],
];

describe('Alertmanager fast path (same result as the zod schema)', () => {
  it.each(cases)('%s', (_name, input) => {
    const fast = fastAmPayload(input);
    const slow = amPayload.safeParse(input);
    if (fast === undefined) return; // zod decides, as before
    expect(slow.success).toBe(true);
    expect(fast).toStrictEqual(slow.data);
    // label order is stored (JSON of the labels): it must be zod's too
    expect(JSON.stringify(fast)).toBe(JSON.stringify(slow.data));
  });

  it('takes the usual bodies itself', () => {
    for (const name of [
      'typical',
      'optional fields absent',
      'unknown keys dropped',
      'numbers and booleans coerced',
      'NUL and lone surrogates cleaned',
      'long annotation truncated',
      '200 labels',
      '1,000 alerts',
      'truncatedAlerts 3',
    ])
      expect(fastAmPayload(cases.find(([n]) => n === name)![1]), name).toBeDefined();
  });

  it('never accepts what zod refuses', () => {
    for (const [name, input] of cases)
      if (!amPayload.safeParse(input).success) expect(fastAmPayload(input), name).toBeUndefined();
  });
});

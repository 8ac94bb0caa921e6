import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeCallback,
  encodeCallback,
  type CallbackData,
} from '../../../src/telegram/callback-data.js';

describe('callback data', () => {
  const samples: CallbackData[] = [
    { kind: 'inc', action: 'ack', seq: 12 },
    { kind: 'list', page: 3 },
    { kind: 'runbook-offer', runbook: 'disk-cleanup', seq: 999999 },
    { kind: 'approval', vote: 'y', token: 'a'.repeat(32) },
    { kind: 'run-details', run: '0123456789abcdef0123456789abcdef' },
    { kind: 'checklist', seq: 4, item: 7 },
  ];

  it('round-trips and stays within 64 bytes', () => {
    for (const d of samples) {
      const raw = encodeCallback(d);
      expect(Buffer.byteLength(raw)).toBeLessThanOrEqual(64);
      expect(decodeCallback(raw)).toEqual(d);
    }
  });

  it('refuses forged or malformed data', () => {
    for (const raw of [
      'i:ack:0',
      'i:nuke:1',
      'i:ack:1:2',
      'ap:y:zz',
      'ap:x:' + 'a'.repeat(32),
      'l:-1',
      '',
      'x'.repeat(65),
      'i:ack:01',
    ]) {
      expect(decodeCallback(raw)).toBeUndefined();
    }
  });

  it('never throws on arbitrary input (1,000 cases)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        const d = decodeCallback(s);
        if (d) expect(encodeCallback(d)).toBe(s);
      }),
      { numRuns: 1000 },
    );
  });
});

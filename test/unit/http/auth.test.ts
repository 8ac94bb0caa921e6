import type * as NodeCrypto from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';

// count timingSafeEqual calls while keeping the real comparison
vi.mock('node:crypto', async (orig) => {
  const real = await orig<typeof NodeCrypto>();
  return { ...real, timingSafeEqual: vi.fn(real.timingSafeEqual) };
});
const crypto = await import('node:crypto');
const { bearer, matchToken, safeEqual } = await import('../../../src/http/auth.js');

const candidates: [string, { token: string }][] = [
  ['a', { token: 'token-of-a-1234567' }],
  ['b', { token: 'token-of-b-1234567' }],
  ['c', { token: 'token-of-c-1234567' }],
];

describe('intake token comparison', () => {
  afterEach(() => vi.mocked(crypto.timingSafeEqual).mockClear());

  it('compares in constant time, over equal-length digests, whatever the lengths', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    const calls = vi.mocked(crypto.timingSafeEqual).mock.calls;
    expect(calls).toHaveLength(2);
    for (const [x, y] of calls) expect([x.byteLength, y.byteLength]).toEqual([32, 32]);
  });

  it('checks every candidate, even after a hit (no early exit)', () => {
    expect(matchToken('token-of-a-1234567', candidates)?.[0]).toBe('a');
    expect(vi.mocked(crypto.timingSafeEqual)).toHaveBeenCalledTimes(3);
    expect(matchToken('nope', candidates)).toBeUndefined();
    expect(matchToken(undefined, candidates)).toBeUndefined();
    expect(matchToken('', [['e', { token: '' }]])).toBeUndefined();
  });

  it('reads only a well-formed bearer header', () => {
    expect(bearer('Bearer abc')).toBe('abc');
    expect(bearer('bearer  abc ')).toBe('abc');
    expect(bearer('Basic abc')).toBeUndefined();
    expect(bearer('Bearer a b')).toBeUndefined();
    expect(bearer(undefined)).toBeUndefined();
  });
});

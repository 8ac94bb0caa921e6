import { describe, expect, it } from 'vitest';
import { own } from '../../src/own.js';

describe('own: lookups by name see own properties only', () => {
  it('prototype names are unknown, real names are found', () => {
    const people: Record<string, { id: number }> = { alice: { id: 1 } };
    for (const n of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'])
      expect(own(people, n)).toBeUndefined();
    expect(own(people, 'alice')).toEqual({ id: 1 });
  });
});

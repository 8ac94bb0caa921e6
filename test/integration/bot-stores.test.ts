import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createChecklistStore } from '../../src/store/checklists.js';
import { createDraftStore } from '../../src/store/drafts.js';
import { createKeys } from '../../src/store/keys.js';
import { createUpdateClaims } from '../../src/store/update-claims.js';
import { REDIS_URL, dropPrefix, freshPrefix } from '../helpers/redis.js';

const prefix = freshPrefix();
const redis = new Redis(REDIS_URL);
const keys = createKeys(prefix);
afterAll(async () => {
  await dropPrefix(prefix);
  redis.disconnect();
});

describe('the stores behind the bot features', () => {
  it('checklist: a press ticks, the next clears; many presses at once alternate, never both tick', async () => {
    const lists = createChecklistStore({ redis, keys });
    expect(await lists.toggle('INC-1', 2, 'alice')).toEqual({
      ticked: true,
      state: { '2': 'alice' },
    });
    expect(await lists.toggle('INC-1', 2, 'bob')).toEqual({ ticked: false, state: {} });
    const presses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => lists.toggle('INC-2', 0, `p${i}`)),
    );
    expect(presses.filter((p) => p.ticked)).toHaveLength(5);
    // each answer shows the state its own change left: ticked by that presser, or cleared
    for (const [i, p] of presses.entries())
      expect(p.state).toEqual(p.ticked ? { '0': `p${i}` } : {});
    expect(await redis.hgetall(keys.checklist('INC-2'))).toEqual({});
  });

  it('drafts: an /update text is taken once; conversations round-trip as JSON', async () => {
    const drafts = createDraftStore({ redis, keys });
    await drafts.saveUpdate(-100, 7, 3, 'db failover done', 600);
    const [a, b] = await Promise.all([
      drafts.takeUpdate(-100, 7, 3),
      drafts.takeUpdate(-100, 7, 3),
    ]);
    expect([a, b].sort()).toEqual(['db failover done', null].sort());
    await drafts.writeConversation('-100:7', { version: [0, 2], state: [1] }, 60);
    expect(await drafts.readConversation('-100:7')).toEqual({ version: [0, 2], state: [1] });
    await drafts.deleteConversation('-100:7');
    expect(await drafts.readConversation('-100:7')).toBeUndefined();
  });

  it('update claims: the first claim wins, a repeat is refused', async () => {
    const claims = createUpdateClaims({ redis, keys });
    const got = await Promise.all([claims.claim(41), claims.claim(41), claims.claim(42)]);
    expect(got.filter(Boolean)).toHaveLength(2);
    expect(await claims.claim(42)).toBe(false);
  });
});

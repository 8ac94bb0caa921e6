import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createKeys } from '../../src/store/keys.js';
import { readdirSync, readFileSync } from 'node:fs';
import { commonFor, keysUsedBy, luaDeclaredKeys, luaKeyTable } from '../../src/store/lua-keys.js';
import { REDIS_URL } from '../helpers/redis.js';

const redis = new Redis(REDIS_URL);
afterAll(() => redis.quit());

/** Runs `expr` after the generated key table, with prefix `p`, and returns its value. */
const lua = async (p: string, expr: string, keys: string[] = []) =>
  redis.eval(
    `${luaKeyTable()}${luaDeclaredKeys(['obSeq'])}return ${expr}`,
    keys.length,
    ...keys,
    p,
  );

describe('Lua keys generated from keys.ts', () => {
  it('every builder with arguments names in Lua the key keys.ts names', async () => {
    const p = '{ops}:';
    const k = createKeys(p);
    const cases: [string, string][] = [
      ["K.incident('INC-7')", k.incident('INC-7')],
      ["K.timeline('INC-7')", k.timeline('INC-7')],
      ["K.pendingCards('INC-7')", k.pendingCards('INC-7')],
      ["K.dedup('p:a|b')", k.dedup('p:a|b')],
      ["K.obJob('12')", k.obJob('12')],
      ["K.obNext('-100')", k.obNext('-100')],
      ["K.stateIndex('resolved')", k.stateIndex('resolved')],
      ['K.aggDay(20000)', k.aggDay(20000)],
      ["K.timerData('esc:INC-1:0')", k.timerData('esc:INC-1:0')],
      ['K.updateDraft(-1, 2, 3)', k.updateDraft(-1, 2, 3)],
    ];
    for (const lane of [0, 1, 2, 3]) cases.push([`K.obLane('-5', ${lane})`, k.obLane('-5', lane)]);
    for (const [expr, want] of cases) expect(await lua(p, expr), expr).toBe(want);
  });

  it('a static key is not in K: scripts read it from KEYS by name, and an undeclared one fails', async () => {
    expect(await lua('x:', "tostring(K.obSeq) .. '|' .. S.obSeq", ['x:ob:seq'])).toBe(
      'nil|x:ob:seq',
    );
    await expect(lua('x:', 'S.obReady', ['x:ob:seq'])).rejects.toThrow(/obReady is not declared/);
  });

  it("a script's table holds the builders it names, and every name it uses is a keys.ts builder", async () => {
    const only = luaKeyTable(keysUsedBy("-- K table\nreturn K.incident('INC-1')"));
    expect(only).toContain('incident = function');
    expect(only).not.toContain('timeline = function');
    const r = await redis.eval(
      `${only}return { K.incident('INC-1'), tostring(K.timeline) }`,
      0,
      'p:',
    );
    expect(r).toEqual(['p:inc:{INC-1}', 'nil']);
    // no script names a builder keys.ts lacks (it would be nil only when that line runs)
    const all = new Set([...luaKeyTable().matchAll(/^ {2}(\w+) = function/gm)].map((m) => m[1]));
    const k = createKeys('x:') as unknown as Record<string, unknown>;
    const dir = 'src/store/lua';
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.lua'))) {
      for (const name of keysUsedBy(readFileSync(`${dir}/${f}`, 'utf8')))
        expect(typeof k[name] === 'function' && all.has(name), `${f}: K.${name}`).toBe(true);
    }
  });

  it('a script carries the common.lua helpers it reaches, through other helpers too, and no others', async () => {
    const common = readFileSync('src/store/lua/common.lua', 'utf8');
    const helpers = (body: string) =>
      [...commonFor(common, body).matchAll(/^local function (\w+)\(/gm)].map((m) => m[1]);
    // ob_push reaches the lane helpers; a comment naming ix_apply brings nothing
    const push = helpers("-- unlike ix_apply\nob_push(1, 'c', 'text', {}, '', false)");
    expect(push).toEqual(
      expect.arrayContaining([
        'ob_push',
        'ob_lane_of',
        'ob_urgent',
        'ob_lane_key',
        'ob_digest_only',
      ]),
    );
    expect(push).not.toContain('ix_apply');
    expect(push).not.toContain('overrides_append');
    expect(helpers('return 1')).toEqual([]);
    // the constants stay, in order, and the helpers kept still come before their callers
    const kept = commonFor(common, 'ix_apply(1)');
    expect(kept).toContain('local IX_FIELDS');
    expect(kept.indexOf('local function ix_snap(')).toBeLessThan(
      kept.indexOf('local function ix_apply('),
    );
    // and what it gives runs: the kept helper works against Redis
    const r = await redis.eval(
      `${luaKeyTable()}${luaDeclaredKeys([])}${commonFor(common, 'ix_incident_of')}\nreturn ix_incident_of(K.incident('INC-7'))`,
      0,
      'p:',
    );
    expect(r).toBe('INC-7');
  });
});

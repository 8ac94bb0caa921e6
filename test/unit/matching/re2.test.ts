import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { parseConfig } from '../../../src/config.js';
import { cannotMatchEverything, parseMatchers } from '../../../src/incidents/silences.js';
import {
  MAX_LABEL_VALUE_LENGTH,
  MAX_PATTERN_LENGTH,
  matchLabels,
  patternProblem,
  rejectsEmpty,
} from '../../../src/matching/re2.js';
import { parseRunbook } from '../../../src/runbooks/loader.js';
import { testConfigYaml } from '../../helpers/config.js';

describe('RE2 matching (src/matching/re2.ts)', () => {
  it('matches a catastrophic-backtracking pattern against a long value in linear time', () => {
    const labels = { service: 'a'.repeat(MAX_LABEL_VALUE_LENGTH) };
    // With JavaScript's backtracking engine this call does not return (2^1024 paths).
    expect(matchLabels({ service: '=~(a+)+b' }, labels)).toBe(false);
    expect(matchLabels({ service: '=~(a+)+b' }, { service: 'aaab' })).toBe(true);
  });

  it('anchors label regexes fully, as Alertmanager does', () => {
    expect(matchLabels({ a: '=~api-.*' }, { a: 'api-gw' })).toBe(true);
    expect(matchLabels({ a: '=~api-.*' }, { a: 'xapi-gw' })).toBe(false);
    expect(matchLabels({ a: '=~api' }, { a: 'api-gw' })).toBe(false);
    expect(matchLabels({ a: '!~api|web' }, { a: 'db' })).toBe(true);
    expect(matchLabels({ a: '!~api|web' }, { a: 'web' })).toBe(false);
  });

  it('a missing label (even one named like an Object property) is the empty string', () => {
    expect(matchLabels({ constructor: '=~.+' }, {})).toBe(false);
    expect(matchLabels({ toString: '=~.+' }, {})).toBe(false);
    expect(matchLabels({ x: '!=y' }, {})).toBe(true);
  });

  it('a label value over the cap never satisfies a regex matcher; equality compares it whole', () => {
    const long = 'a'.repeat(MAX_LABEL_VALUE_LENGTH + 1);
    expect(matchLabels({ s: '=~a+' }, { s: long })).toBe(false);
    expect(matchLabels({ s: '!~b' }, { s: long })).toBe(false);
    expect(matchLabels({ s: long }, { s: long })).toBe(true);
  });

  it('refuses too long patterns and non-RE2 syntax with a reason', () => {
    expect(patternProblem('a'.repeat(MAX_PATTERN_LENGTH))).toBeUndefined();
    expect(patternProblem('a'.repeat(MAX_PATTERN_LENGTH + 1))).toMatch(/at most 256/);
    expect(patternProblem('(a')).toMatch(/invalid regular expression.*missing closing \)/);
    expect(patternProblem('(?=a)b')).toMatch(/invalid regular expression/);
    expect(patternProblem('(a)\\1')).toMatch(/invalid regular expression/);
  });

  it('knows which matchers cannot match the empty string', () => {
    expect(rejectsEmpty('api')).toBe(true); // service=api
    expect(rejectsEmpty('=~.+')).toBe(true);
    expect(rejectsEmpty('=~(a+)+b')).toBe(true);
    expect(rejectsEmpty('=~.*')).toBe(false);
    expect(rejectsEmpty('=~a|')).toBe(false);
    expect(rejectsEmpty('!=y')).toBe(false);
    expect(rejectsEmpty('!~x')).toBe(false); // "" is not x, so !~x holds for a missing label
    expect(rejectsEmpty('!~x?')).toBe(true); // x? matches "", so !~x? fails for a missing label
    expect(cannotMatchEverything({ anything: '=~.*' })).toBe(false);
    expect(cannotMatchEverything({ anything: '=~.*', service: 'api' })).toBe(true);
  });

  it('/silence matchers: a bad regex names the token and the problem', () => {
    expect(parseMatchers(['service=~(a'])).toMatchObject({
      error: 'service=~(a',
      problem: expect.stringMatching(/invalid regular expression/),
    });
    expect(parseMatchers([`s=~${'x'.repeat(300)}`])).toMatchObject({
      problem: expect.stringMatching(/300 characters long; at most 256/),
    });
    expect(parseMatchers(['a=b', 'c!~d'])).toEqual({ matchers: { a: 'b', c: '!~d' } });
  });

  it('config: a bad route regex is a ConfigError naming the path', () => {
    const bad = testConfigYaml().replace('"=~api-.*"', '"=~api-(?=x)"');
    expect(() => parseConfig(bad, {})).toThrow(ConfigError);
    expect(() => parseConfig(bad, {})).toThrow(
      /^routes\[1\]\.match\.service: invalid regular expression/,
    );
    const long = testConfigYaml().replace('"=~api-.*"', `"=~${'a'.repeat(257)}"`);
    expect(() => parseConfig(long, {})).toThrow(/^routes\[1\]\.match\.service: .*at most 256/);
  });

  it('config: silences.max_duration defaults and parses', () => {
    expect(parseConfig(testConfigYaml(), {}).silences.max_duration).toEqual({
      responder: 86_400_000,
      admin: 30 * 86_400_000,
    });
    const c = parseConfig(
      testConfigYaml({ extra: 'silences: { max_duration: { responder: 2h, approver: 12h } }' }),
      {},
    );
    expect(c.silences.max_duration).toEqual({
      responder: 7_200_000,
      approver: 43_200_000,
      admin: 30 * 86_400_000,
    });
  });

  it('runbook load: a non-RE2 param pattern names the file and the path', () => {
    const yaml = `id: demo
title: Demo
description: d
params:
  - { name: n, pattern: "^(?!0)[0-9]+$" }
steps:
  - { name: s, run: [echo, "{{n}}"] }
`;
    expect(() => parseRunbook(yaml, 'commands/demo.yaml')).toThrow(
      /^commands\/demo\.yaml: params\[0\]\.pattern: invalid regular expression/,
    );
  });
});

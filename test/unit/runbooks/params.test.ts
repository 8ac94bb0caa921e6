import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ValidationError } from '../../../src/errors.js';
import { parseRunbook } from '../../../src/runbooks/loader.js';
import {
  MAX_PARAM_VALUE_LENGTH,
  paramsHash,
  parseRunArgs,
  renderArgv,
  renderTemplate,
  resolveParams,
  tokenizeArgs,
} from '../../../src/runbooks/params.js';

const rb = parseRunbook(
  stringify({
    id: 'demo',
    title: 'Demo',
    description: 'Demo runbook for parameter tests.',
    approval: { required: true },
    lock: 'demo-{{service}}',
    params: [
      { name: 'service', enum: ['api', 'worker', '--all'] },
      { name: 'days', pattern: '^[0-9]{1,3}$', default: '1' },
      { name: 'offset', pattern: '^-?[0-9]+$', default: '0' },
      { name: 'reason', required: false },
      { name: 'note', default: 'none' },
      { name: 'anything', pattern: '^.*$', default: 'x' },
    ],
    steps: [
      {
        name: 'clean',
        run: ['find', '/tmp', '-name', '{{service}}-*', '-mtime', '+{{days}}', '-delete'],
      },
      { name: 'echo', run: ['echo', '{{anything}}', 'note={{note}}'] },
    ],
  }),
  'commands/demo.yaml',
);

/** Runs `fn` expecting a ValidationError and returns it. */
function invalid(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return e as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

describe('tokenizeArgs', () => {
  it('splits on any whitespace', () => {
    expect(tokenizeArgs('  disk-cleanup \t service=api\n days=2 ')).toEqual([
      'disk-cleanup',
      'service=api',
      'days=2',
    ]);
    expect(tokenizeArgs('')).toEqual([]);
  });

  it('honours double and single quotes inside a token', () => {
    expect(tokenizeArgs('x reason="disk full" note=\'a b\'')).toEqual([
      'x',
      'reason=disk full',
      'note=a b',
    ]);
    expect(tokenizeArgs('"a b"c\'d e\'')).toEqual(['a bcd e']);
    expect(tokenizeArgs('k="" j=\'\'')).toEqual(['k=', 'j=']);
  });

  it('handles backslash escapes inside double quotes only', () => {
    expect(tokenizeArgs('reason="say \\"hi\\" \\\\ now"')).toEqual(['reason=say "hi" \\ now']);
    expect(tokenizeArgs('reason="a\\nb"')).toEqual(['reason=a\\nb']);
    expect(tokenizeArgs("reason='it\\'")).toEqual(['reason=it\\']);
    expect(tokenizeArgs('a\\b')).toEqual(['a\\b']);
  });

  it('keeps the other quote kind literally', () => {
    expect(tokenizeArgs(`reason="don't stop" q='say "x"'`)).toEqual([
      `reason=don't stop`,
      'q=say "x"',
    ]);
  });

  it('treats smart quotes from phone keyboards like plain quotes', () => {
    expect(tokenizeArgs('reason=“disk full” note=‘a b’ x=don’t')).toEqual([
      'reason=disk full',
      'note=a b',
      'x=don’t',
    ]);
  });

  it('rejects an unclosed quote', () => {
    const e = invalid(() => tokenizeArgs('x reason="disk full'));
    expect(e.message).toMatch(/unclosed " quote \(opened at character 10\)/);
    expect(e.issues[0]!.path).toBe('args');
    expect(() => tokenizeArgs("x note='a")).toThrow(/unclosed ' quote/);
    expect(() => tokenizeArgs('x reason="a\\"')).toThrow(ValidationError);
  });
});

describe('parseRunArgs', () => {
  it('returns the id and key=value pairs', () => {
    expect(parseRunArgs('disk-cleanup service=api reason="disk full"')).toEqual({
      id: 'disk-cleanup',
      values: { service: 'api', reason: 'disk full' },
    });
  });

  it('keeps = inside values and tolerates a leading /run@bot', () => {
    expect(parseRunArgs('/run@opsbot Demo q=a=b')).toEqual({ id: 'demo', values: { q: 'a=b' } });
  });

  it('rejects tokens without = saying key=value is expected', () => {
    const e = invalid(() => parseRunArgs('disk-cleanup api days=2 =x'));
    expect(e.message).toMatch(/expected key=value, got "api"/);
    expect(e.issues.map((i) => i.message)).toEqual([
      'expected key=value, got "api"',
      'expected key=value, got "=x"',
    ]);
  });

  it('rejects a missing or malformed id, bad keys and repeated keys', () => {
    expect(invalid(() => parseRunArgs('   ')).message).toMatch(/expected a runbook id/);
    expect(invalid(() => parseRunArgs('rm;ls')).message).toMatch(/is not a runbook id/);
    expect(invalid(() => parseRunArgs('demo Service=api')).issues[0]!.message).toMatch(
      /parameter name/,
    );
    expect(invalid(() => parseRunArgs('demo a=1 a=2')).issues).toEqual([
      { path: 'a', message: 'given more than once' },
    ]);
  });

  it('never touches the prototype', () => {
    const { values } = parseRunArgs('demo __proto__=x constructor=y');
    expect(Object.getPrototypeOf(values)).toBe(Object.prototype);
    expect(Object.keys(values)).toEqual(['__proto__', 'constructor']);
    const e = invalid(() => resolveParams(rb, { ...values, service: 'api' }));
    expect(e.issues.map((i) => i.path)).toEqual(['__proto__', 'constructor']);
  });
});

describe('resolveParams', () => {
  it('fills in defaults and keeps given values', () => {
    expect(resolveParams(rb, { service: 'api', days: '7' })).toEqual({
      service: 'api',
      days: '7',
      offset: '0',
      note: 'none',
      anything: 'x',
    });
    expect(resolveParams(rb, { service: 'worker', reason: 'disk full' })).toMatchObject({
      reason: 'disk full',
    });
  });

  it('names every problem and what is allowed', () => {
    const e = invalid(() => resolveParams(rb, { days: 'ten', color: 'red' }));
    expect(e.issues).toEqual([
      {
        path: 'color',
        message: 'unknown parameter; known: service, days, offset, reason, note, anything',
      },
      { path: 'service', message: 'required; one of: api, worker, --all' },
      { path: 'days', message: '"ten" is not allowed; must match ^[0-9]{1,3}$' },
    ]);
    expect(e.message).toMatch(/^invalid parameters for demo: color: unknown parameter/);
    expect(invalid(() => resolveParams(rb, { service: 'db' })).issues).toEqual([
      { path: 'service', message: '"db" is not allowed; one of: api, worker, --all' },
    ]);
  });

  it('matches the pattern against the whole value', () => {
    expect(() => resolveParams(rb, { service: 'api', days: '1; rm -rf /' })).toThrow(/must match/);
    expect(() => resolveParams(rb, { service: 'api', days: '1\n2' })).toThrow(/control characters/);
  });

  it.each([
    ['semicolon', 'a; rm -rf /'],
    ['command substitution', '$(id)'],
    ['backticks', '`id`'],
    ['path traversal', '../../etc/passwd'],
    ['pipe', 'x | nc evil 1'],
  ])('rejects %s for enum and pattern params', (_name, value) => {
    expect(() => resolveParams(rb, { service: value })).toThrow(ValidationError);
    expect(() => resolveParams(rb, { service: 'api', days: value })).toThrow(ValidationError);
  });

  it.each([
    ['newline', 'a\nb'],
    ['carriage return', 'a\rb'],
    ['NUL', 'a\u0000b'],
    ['tab', 'a\tb'],
    ['line separator', 'a\u2028b'],
  ])('rejects %s even where the pattern would allow it', (_name, value) => {
    const e = invalid(() => resolveParams(rb, { service: 'api', anything: value }));
    expect(e.issues).toEqual([
      { path: 'anything', message: expect.stringMatching(/control characters/) },
    ]);
  });

  it.each([
    ['right-to-left override', 'safe\u202Etxt.exe', 'U+202E'],
    ['left-to-right embedding', 'a\u202Ab', 'U+202A'],
    ['first strong isolate', 'a\u2068b', 'U+2068'],
    ['pop directional isolate', 'a\u2069b', 'U+2069'],
    ['zero-width space', 'pro\u200Bd', 'U+200B'],
    ['zero-width joiner', 'a\u200Db', 'U+200D'],
    ['word joiner', 'a\u2060b', 'U+2060'],
    ['C1 control (CSI)', 'a\u009Bb', 'U+009B'],
    ['C1 control (NEL)', 'a\u0085b', 'U+0085'],
    ['byte order mark', '\uFEFFapi', 'U+FEFF'],
  ])('rejects a %s even where the pattern would allow it', (_name, value, code) => {
    const e = invalid(() => resolveParams(rb, { service: 'api', anything: value }));
    expect(e.issues).toEqual([
      {
        path: 'anything',
        message: expect.stringMatching(
          new RegExp(`invisible or direction-changing.*${code.replace('+', '\\+')}`),
        ),
      },
    ]);
  });

  it('still accepts ordinary non-ASCII text (Arabic, accents, emoji)', () => {
    for (const v of ['مرحبا', 'café', 'disk 🔥'])
      expect(resolveParams(rb, { service: 'api', anything: v }).anything).toBe(v);
  });

  it('rejects a leading "-" unless the pattern or enum allows it', () => {
    expect(
      invalid(() => resolveParams(rb, { service: 'api', note: '--output=/etc/passwd' })).issues,
    ).toEqual([
      { path: 'note', message: 'must not start with "-" (it could be read as an option)' },
    ]);
    expect(() => resolveParams(rb, { service: 'api', days: '-1' })).toThrow(/must match/);
    expect(resolveParams(rb, { service: 'api', offset: '-5' }).offset).toBe('-5');
    expect(resolveParams(rb, { service: '--all' }).service).toBe('--all');
    expect(resolveParams(rb, { service: 'api', anything: '-rf' }).anything).toBe('-rf');
  });

  it('rejects very long and empty values', () => {
    const long = 'a'.repeat(MAX_PARAM_VALUE_LENGTH + 1);
    expect(
      invalid(() => resolveParams(rb, { service: 'api', note: long })).issues[0]!.message,
    ).toBe(`too long: ${MAX_PARAM_VALUE_LENGTH + 1} characters, at most ${MAX_PARAM_VALUE_LENGTH}`);
    expect(
      resolveParams(rb, { service: 'api', note: 'a'.repeat(MAX_PARAM_VALUE_LENGTH) }).note,
    ).toHaveLength(256);
    expect(() => resolveParams(rb, { service: 'api', note: '' })).toThrow(/must not be empty/);
  });

  it('says when a runbook takes no parameters', () => {
    const bare = { ...rb, id: 'bare', params: [] };
    expect(invalid(() => resolveParams(bare, { x: '1' })).issues[0]!.message).toBe(
      'unknown parameter; this runbook takes no parameters',
    );
  });
});

describe('renderArgv / renderTemplate', () => {
  it('replaces placeholders inside single argv elements', () => {
    const params = resolveParams(rb, { service: 'api', days: '3' });
    expect(renderArgv(rb, params)).toEqual([
      ['find', '/tmp', '-name', 'api-*', '-mtime', '+3', '-delete'],
      ['echo', 'x', 'note=none'],
    ]);
    expect(renderTemplate(rb.lock, params)).toBe('demo-api');
  });

  it('keeps shell syntax allowed by a permissive pattern as ONE inert element', () => {
    for (const value of [
      'a; rm -rf /',
      '$(id)',
      '`id`',
      '../../etc/passwd',
      'x && y',
      '* ?',
      '"quoted" \'x\'',
    ]) {
      const params = resolveParams(rb, { service: 'api', anything: value });
      const argv = renderArgv(rb, params)[1]!;
      expect(argv).toEqual(['echo', value, 'note=none']);
    }
  });

  it('inserts values verbatim in one pass', () => {
    const params = resolveParams(rb, { service: 'api', anything: '{{note}} $& $1 $$' });
    expect(renderArgv(rb, params)[1]).toEqual(['echo', '{{note}} $& $1 $$', 'note=none']);
  });

  it('refuses placeholders without a value, including inherited names', () => {
    expect(() => renderTemplate('x-{{host}}', {})).toThrow(/no value for \{\{host\}\}/);
    expect(() => renderTemplate('{{constructor}}', {})).toThrow(ValidationError);
    expect(() => renderTemplate('{{toString}}', {})).toThrow(ValidationError);
  });
});

describe('paramsHash', () => {
  it('is the sha256 of canonical JSON, independent of key order', () => {
    const a = paramsHash({ service: 'api', days: '1' });
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(paramsHash({ days: '1', service: 'api' })).toBe(a);
    expect(paramsHash({ service: 'api', days: '2' })).not.toBe(a);
    expect(paramsHash({})).toBe('44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
  });
});

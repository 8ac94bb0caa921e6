import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError } from '../../../src/errors.js';
import { loadRunbooks, parseRunbook } from '../../../src/runbooks/loader.js';
import { compileRedact, redactText } from '../../../src/runbooks/schema.js';

const FILE = 'commands/demo.yaml';

function base(): Record<string, unknown> {
  return {
    id: 'demo',
    title: 'Demo',
    description: 'A demo runbook.',
    params: [
      { name: 'service', enum: ['api', 'worker'] },
      { name: 'days', pattern: '^[0-9]{1,3}$', default: '1' },
    ],
    steps: [
      {
        name: 'clean',
        run: ['find', '/tmp', '-name', '{{service}}-*', '-mtime', '+{{days}}', '-delete'],
      },
    ],
  };
}

function parse(doc: unknown) {
  return parseRunbook(stringify(doc), FILE);
}

/** Parses `doc` expecting a ConfigError and returns its message. */
function problem(doc: unknown): string {
  try {
    parse(doc);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

function withStep(step: Record<string, unknown>): Record<string, unknown> {
  return { ...base(), steps: [step] };
}

describe('runbook schema: defaults', () => {
  it('parses the CONTRACT example shape with defaults filled in', () => {
    const rb = parse(base());
    expect(rb).toMatchObject({
      id: 'demo',
      kind: 'diagnostic',
      role: 'responder',
      approval: { required: false, approvers: 1 },
      approveRole: 'approver',
      approvalTtlMs: 15 * 60_000,
      lock: 'demo',
      env: [],
      redact: [],
      tags: [],
      match: {},
      file: FILE,
    });
    expect(rb.params).toEqual([
      { name: 'service', enum: ['api', 'worker'], required: true },
      { name: 'days', pattern: '^[0-9]{1,3}$', default: '1', required: false },
    ]);
    expect(rb.steps[0]).toMatchObject({ timeoutMs: 60_000, continueOnError: false });
  });

  it('makes a runbook that needs approval a remediation unless kind says otherwise', () => {
    expect(parse({ ...base(), approval: { required: true } }).kind).toBe('remediation');
    expect(parse({ ...base(), approval: { required: true }, kind: 'diagnostic' }).kind).toBe(
      'diagnostic',
    );
  });

  it('converts durations and keeps optional fields', () => {
    const rb = parse({
      ...base(),
      approval: { required: true, approvers: 2 },
      approve_role: 'admin',
      approval_ttl: '5m',
      lock: 'clean-{{service}}',
      cwd: '/srv/{{service}}',
      env: ['HOME', 'KUBECONFIG'],
      redact: ['[Pp]assword=\\S+'],
      match: { alertname: '=~Disk.*', team: 'ops', env: '!=dev' },
      tags: ['disk'],
      steps: [{ name: 's', run: ['df', '-h'], timeout: '30s', continue_on_error: true }],
    });
    expect(rb).toMatchObject({
      approvalTtlMs: 300_000,
      approveRole: 'admin',
      lock: 'clean-{{service}}',
      cwd: '/srv/{{service}}',
      steps: [{ name: 's', run: ['df', '-h'], timeoutMs: 30_000, continueOnError: true }],
    });
  });

  it('redacts with the compiled patterns', () => {
    const rb = parse({ ...base(), redact: ['[Pp]assword=\\S+', 'X-API-Key:\\s*\\S+'] });
    expect(redactText('user=a password=hunter2 X-API-Key: abc ok', compileRedact(rb))).toBe(
      'user=a [redacted] [redacted] ok',
    );
  });
});

describe('runbook schema: rejections name the path', () => {
  it.each<[string, (d: Record<string, unknown>) => unknown, RegExp]>([
    [
      'unknown top-level key',
      (d) => ({ ...d, steps_: [] }),
      /^commands\/demo\.yaml: steps_: unknown key$/,
    ],
    [
      'unknown step key',
      (d) => ({ ...d, steps: [{ name: 's', run: ['df'], tiemout: '5s' }] }),
      /: steps\[0\]\.tiemout: unknown key/,
    ],
    [
      'bad id',
      (d) => ({ ...d, id: 'Disk_Cleanup' }),
      /: id: expected lowercase letters, digits and dashes/,
    ],
    ['missing title', (d) => ({ ...d, title: undefined }), /: title: title is required/],
    ['no steps', (d) => ({ ...d, steps: [] }), /: steps: at least one step is needed/],
    [
      'shell string instead of argv',
      (d) => ({ ...d, steps: [{ name: 's', run: 'df -h /' }] }),
      /: steps\[0\]\.run: expected an argv array/,
    ],
    [
      'empty argv',
      (d) => ({ ...d, steps: [{ name: 's', run: [] }] }),
      /: steps\[0\]\.run: run needs at least the program/,
    ],
    [
      'number in argv',
      (d) => ({ ...d, steps: [{ name: 's', run: ['sleep', 5] }] }),
      /: steps\[0\]\.run\[1\]: expected a string/,
    ],
    [
      'bad timeout',
      (d) => ({ ...d, steps: [{ name: 's', run: ['df'], timeout: 'soon' }] }),
      /: steps\[0\]\.timeout: expected a duration like 30s/,
    ],
    [
      'timeout over 1h',
      (d) => ({ ...d, steps: [{ name: 's', run: ['df'], timeout: '2h' }] }),
      /: steps\[0\]\.timeout: must be between 1s and 1h/,
    ],
    [
      'approvers 4',
      (d) => ({ ...d, approval: { required: true, approvers: 4 } }),
      /: approval\.approvers: expected 1, 2 or 3/,
    ],
    [
      'approvers without approval',
      (d) => ({ ...d, approval: { required: false, approvers: 2 } }),
      /: approval\.approvers: approvers only counts when approval\.required is true/,
    ],
    [
      'unknown role',
      (d) => ({ ...d, role: 'boss' }),
      /: role: expected one of responder, approver, admin/,
    ],
    [
      'viewer may not act',
      (d) => ({ ...d, approve_role: 'viewer' }),
      /: approve_role: viewers cannot act/,
    ],
    [
      'bad approval_ttl',
      (d) => ({ ...d, approval_ttl: '15' }),
      /: approval_ttl: expected a duration/,
    ],
    ['bad kind', (d) => ({ ...d, kind: 'fix' }), /: kind: expected diagnostic or remediation/],
    [
      'bad param name',
      (d) => ({ ...d, params: [{ name: 'Service' }] }),
      /: params\[0\]\.name: expected a name like service/,
    ],
    [
      'duplicate param',
      (d) => ({
        ...d,
        params: [
          { name: 'service', enum: ['a'] },
          { name: 'service', enum: ['b'] },
        ],
      }),
      /: params\[1\]\.name: duplicate param "service"/,
    ],
    [
      'default outside enum',
      (d) => ({
        ...d,
        params: [
          { name: 'service', enum: ['api', 'worker'], default: 'db' },
          { name: 'days', default: '1' },
        ],
      }),
      /: params\[0\]\.default: default must be one of: api, worker/,
    ],
    [
      'default not matching pattern',
      (d) => ({
        ...d,
        params: [
          { name: 'service', enum: ['api'] },
          { name: 'days', pattern: '^[0-9]{1,3}$', default: 'x' },
        ],
      }),
      /: params\[1\]\.default: default must match \^\[0-9\]\{1,3\}\$/,
    ],
    [
      'invalid pattern',
      (d) => ({
        ...d,
        params: [
          { name: 'service', enum: ['api'] },
          { name: 'days', pattern: '^([0-9]$' },
        ],
      }),
      /: params\[1\]\.pattern: invalid regular expression/,
    ],
    [
      'unanchored pattern',
      (d) => ({
        ...d,
        params: [
          { name: 'service', enum: ['api'] },
          { name: 'days', pattern: '[0-9]+' },
        ],
      }),
      /: params\[1\]\.pattern: pattern must be anchored/,
    ],
    [
      'escaped final dollar is no anchor',
      (d) => ({
        ...d,
        params: [
          { name: 'service', enum: ['api'] },
          { name: 'days', pattern: '^[0-9]+\\$' },
        ],
      }),
      /: params\[1\]\.pattern: pattern must be anchored/,
    ],
    [
      'enum and pattern',
      (d) => ({
        ...d,
        params: [{ name: 'service', enum: ['api'], pattern: '^api$' }, { name: 'days' }],
      }),
      /: params\[0\]\.pattern: use either enum or pattern/,
    ],
    [
      'required with default',
      (d) => ({
        ...d,
        params: [
          { name: 'service', enum: ['api'] },
          { name: 'days', default: '1', required: true },
        ],
      }),
      /: params\[1\]\.required: a param with a default cannot be required/,
    ],
    [
      'numeric default',
      (d) => ({
        ...d,
        params: [
          { name: 'service', enum: ['api'] },
          { name: 'days', default: 1 },
        ],
      }),
      /: params\[1\]\.default: expected a string/,
    ],
    [
      'undeclared placeholder',
      () => withStep({ name: 's', run: ['rm', '{{path}}'] }),
      /: steps\[0\]\.run\[1\]: \{\{path\}\} does not name a declared param \(declared: service, days\)/,
    ],
    [
      'malformed placeholder',
      () => withStep({ name: 's', run: ['echo', '{{service}'] }),
      /: steps\[0\]\.run\[1\]: malformed placeholder/,
    ],
    [
      'program is a parameter',
      () => withStep({ name: 's', run: ['{{service}}', '-h'] }),
      /: steps\[0\]\.run\[0\]: the program \(argv\[0\]\) can never be a parameter/,
    ],
    [
      'program partly a parameter',
      () => withStep({ name: 's', run: ['/usr/bin/{{service}}'] }),
      /: steps\[0\]\.run\[0\]: the program/,
    ],
    [
      'optional param without default in argv',
      (d) => ({
        ...d,
        params: [{ name: 'service', required: false }],
        steps: [{ name: 's', run: ['echo', '{{service}}'] }],
      }),
      /: steps\[0\]\.run\[1\]: \{\{service\}\} uses an optional param without a default/,
    ],
    [
      'undeclared placeholder in lock',
      (d) => ({ ...d, lock: 'lock-{{host}}' }),
      /: lock: \{\{host\}\} does not name a declared param/,
    ],
    [
      'undeclared placeholder in cwd',
      (d) => ({ ...d, cwd: '/srv/{{host}}' }),
      /: cwd: \{\{host\}\} does not name a declared param/,
    ],
    ['relative cwd', (d) => ({ ...d, cwd: 'srv' }), /: cwd: cwd must be an absolute path/],
    [
      'bot token in env',
      (d) => ({ ...d, env: ['HOME', 'TELEGRAM_BOT_TOKEN'] }),
      /: env\[1\]: secrets are never passed/,
    ],
    [
      'api token in env',
      (d) => ({ ...d, env: ['OPSBOT_API_TOKEN'] }),
      /: env\[0\]: secrets are never passed/,
    ],
    ['*_TOKEN in env', (d) => ({ ...d, env: ['GITHUB_TOKEN'] }), /: env\[0\]: secrets/],
    ['*_SECRET in env', (d) => ({ ...d, env: ['TELEGRAM_WEBHOOK_SECRET'] }), /: env\[0\]: secrets/],
    ['*_KEY in env', (d) => ({ ...d, env: ['AWS_SECRET_ACCESS_KEY'] }), /: env\[0\]: secrets/],
    ['lowercase *_key in env', (d) => ({ ...d, env: ['api_key'] }), /: env\[0\]: secrets/],
    ['password in env', (d) => ({ ...d, env: ['PGPASSWORD'] }), /: env\[0\]: secrets/],
    [
      'bad env name',
      (d) => ({ ...d, env: ['A-B'] }),
      /: env\[0\]: expected an environment variable name/,
    ],
    [
      'invalid redact regex (lookahead is not RE2)',
      (d) => ({ ...d, redact: ['(?=x)password=\\S+'] }),
      /: redact\[0\]: invalid regular expression/,
    ],
    [
      'redact matching empty',
      (d) => ({ ...d, redact: ['x*'] }),
      /: redact\[0\]: pattern must not match an empty string/,
    ],
    [
      'invalid match regex',
      (d) => ({ ...d, match: { alertname: '=~(' } }),
      /: match\.alertname: invalid regular expression/,
    ],
    ['bad tag', (d) => ({ ...d, tags: ['Disk Space'] }), /: tags\[0\]: expected a lowercase tag/],
  ])('%s', (_name, edit, expected) => {
    expect(problem(edit(base()))).toMatch(expected);
  });

  it('accepts a leading-dash argv element written by the author and {{ spaced }} placeholders', () => {
    const rb = parse(withStep({ name: 's', run: ['find', '/tmp', '-mtime', '-{{ days }}'] }));
    expect(rb.steps[0]!.run).toEqual(['find', '/tmp', '-mtime', '-{{ days }}']);
  });

  it('reports invalid YAML and non-mapping documents with the file name', () => {
    expect(() => parseRunbook('id: [unclosed', FILE)).toThrow(
      /^commands\/demo\.yaml: invalid YAML/,
    );
    expect(() => parseRunbook('- a\n- b\n', FILE)).toThrow(
      /^commands\/demo\.yaml: \(root\): expected a runbook mapping/,
    );
    expect(() => parseRunbook('', FILE)).toThrow(ConfigError);
    expect(() => parseRunbook('id: a\nid: b\n', FILE)).toThrow(/invalid YAML/);
  });
});

describe('loadRunbooks', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  function write(files: Record<string, unknown>): string {
    dir = mkdtempSync(path.join(tmpdir(), 'opsbot-rb-'));
    for (const [name, doc] of Object.entries(files)) {
      writeFileSync(path.join(dir, name), typeof doc === 'string' ? doc : stringify(doc));
    }
    return dir;
  }

  it('reads *.yaml and *.yml, ignores other files, keyed by id', () => {
    const d = write({
      'a.yaml': { ...base(), id: 'a' },
      'b.yml': { ...base(), id: 'b' },
      'README.md': 'not a runbook',
    });
    const m = loadRunbooks(d);
    expect([...m.keys()]).toEqual(['a', 'b']);
    expect(m.get('b')!.file).toBe(path.join(d, 'b.yml'));
  });

  it('names the file and path of the first problem', () => {
    const d = write({
      'a.yaml': { ...base(), id: 'a' },
      'b.yaml': withStep({ name: 's', run: 'rm -rf /' }),
    });
    expect(() => loadRunbooks(d)).toThrow(
      `${path.join(d, 'b.yaml')}: steps[0].run: expected an argv array`,
    );
  });

  it('rejects duplicate ids naming both files', () => {
    const d = write({ 'a.yaml': base(), 'b.yaml': base() });
    expect(() => loadRunbooks(d)).toThrow(
      `${path.join(d, 'b.yaml')}: id: duplicate runbook id "demo" (also in ${path.join(d, 'a.yaml')})`,
    );
  });

  it('reports a missing directory as a ConfigError', () => {
    expect(() => loadRunbooks('/nonexistent/opsbot-commands')).toThrow(ConfigError);
  });
});

describe('runbook schema: credentials never go to a target the requester picks', () => {
  const credRunbook = (params: unknown[], run: string[], env = ['PGPASSWORD_FILE']) => ({
    ...base(),
    params,
    env,
    steps: [{ name: 'connect', run }],
  });

  it.each([
    ['a param named host', [{ name: 'host', pattern: '^[a-z.]+$', default: 'db' }], ['psql', 'x']],
    [
      'a param named like a URL',
      [{ name: 'base_url', pattern: '^http://[a-z.:0-9]+$', default: 'http://a' }],
      ['curl', 'x'],
    ],
    [
      'a param after a host flag',
      [{ name: 'target', pattern: '^[a-z.]+$', default: 'db' }],
      ['psql', '-h', '{{target}}'],
    ],
    [
      'a param inside a URL',
      [{ name: 'box', pattern: '^[a-z.]+$', default: 'db' }],
      ['mongosh', 'mongodb://{{box}}:27017/app'],
    ],
    [
      'a param in host:port',
      [{ name: 'node', pattern: '^[a-z.]+$', default: 'db' }],
      ['redis-cli', '--cluster', 'check', '{{node}}:7000'],
    ],
  ])('rejects %s when env passes a credential, naming the file', (_what, params, run) => {
    const msg = problem(credRunbook(params, run));
    expect(msg).toMatch(/^commands\/demo\.yaml: params\[0\]: ".+" is a free-form host or URL/);
    expect(msg).toContain('PGPASSWORD_FILE');
  });

  it.each(['REDISCLI_AUTH', 'KUBECONFIG', 'MY_API_KEY_FILE', 'GOOGLE_APPLICATION_CREDENTIALS'])(
    'counts %s as a credential',
    (env) => {
      expect(
        problem(credRunbook([{ name: 'host', default: 'x' }], ['a', '{{host}}'], [env])),
      ).toMatch(/free-form host or URL/);
    },
  );

  it('accepts the same runbook when the target is an enum, or when no credential is passed', () => {
    const params = [{ name: 'host', enum: ['db1', 'db2'], default: 'db1' }];
    expect(parse(credRunbook(params, ['psql', '-h', '{{host}}'])).params[0]!.enum).toEqual([
      'db1',
      'db2',
    ]);
    const free = [{ name: 'host', pattern: '^[a-z.]+$', default: 'db' }];
    expect(parse(credRunbook(free, ['ping', '{{host}}'], ['HOME'])).env).toEqual(['HOME']);
  });

  it('refuses an env entry interpolated into the opsbot config, naming the file and entry', () => {
    const doc = stringify({ ...base(), env: ['HOME', 'PROM_TOKEN_VALUE'] });
    expect(() =>
      parseRunbook(doc, FILE, { reservedEnv: new Set(['PROM_TOKEN_VALUE', 'OTHER']) }),
    ).toThrow(
      /^commands\/demo\.yaml: env\[1\]: PROM_TOKEN_VALUE is interpolated into the opsbot config/,
    );
    expect(parseRunbook(doc, FILE, { reservedEnv: new Set(['OTHER']) }).env).toEqual([
      'HOME',
      'PROM_TOKEN_VALUE',
    ]);
  });
});

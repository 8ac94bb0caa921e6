import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { parseConfig } from '../../../src/config.js';
import { bodyMode, renderWebhookBody, webhookBackoff } from '../../../src/escalation/notifiers.js';
import { testConfigYaml } from '../../helpers/config.js';

const vars = {
  id: 'INC-7',
  title: 'quote " backslash \\ newline \n tab \t <b>',
  severity: 'P0',
  state: 'triggered',
  level: '2',
  people: 'alice, root',
  chat: 'ops',
  link: 'https://t.me/c/1000000001/42',
};

describe('webhook body templates', () => {
  it('JSON bodies get JSON-escaped values and stay valid JSON', () => {
    const body = '{"incident":"{{id}}","title":"{{ title }}","who":"{{people}}","level":{{level}}}';
    const out = renderWebhookBody({ headers: {}, body }, vars);
    expect(JSON.parse(out)).toEqual({
      incident: 'INC-7',
      title: vars.title,
      who: 'alice, root',
      level: 2,
    });
  });

  it('the default body is a JSON object of every variable', () => {
    expect(JSON.parse(renderWebhookBody({ headers: {} }, vars))).toEqual(vars);
  });

  it('form bodies are URL-encoded, plain text is left as is', () => {
    const form = {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'Body={{title}}',
    };
    expect(bodyMode(form)).toBe('form');
    expect(new URLSearchParams(renderWebhookBody(form, vars)).get('Body')).toBe(vars.title);
    const text = { headers: {}, body: '{{id}}: {{title}}' };
    expect(bodyMode(text)).toBe('text');
    expect(renderWebhookBody(text, vars)).toBe(`INC-7: ${vars.title}`);
    expect(bodyMode({ headers: { 'content-type': 'application/json' }, body: 'x' })).toBe('json');
  });

  it('backoff doubles from 5s and is capped at 2 minutes', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map(webhookBackoff)).toEqual([
      5_000, 10_000, 20_000, 40_000, 80_000, 120_000, 120_000,
    ]);
  });
});

describe('notifiers in the config', () => {
  const yaml = (levels: string, notifiers: string) =>
    testConfigYaml({ levels, extra: `notifiers:\n${notifiers}` });
  const phone = '  phone: { kind: webhook, url: "https://ntfy.example.com/oncall" }';

  it('levels may notify webhook:NAME of a configured notifier', () => {
    const c = parseConfig(
      yaml('      - { after: 0s, notify: ["chat:ops", "webhook:phone"] }', phone),
      {},
    );
    expect(c.notifiers.phone).toMatchObject({ kind: 'webhook', method: 'POST', timeout: 10_000 });
  });

  it('an unknown notifier is a config error naming the path', () => {
    expect(() =>
      parseConfig(yaml('      - { after: 0s, notify: ["chat:ops", "webhook:pager"] }', phone), {}),
    ).toThrowError(
      new ConfigError('escalation_policies.critical.levels[0].notify[1]: unknown webhook "pager"'),
    );
  });

  it('unknown template variables, bad URLs and missing env secrets are config errors', () => {
    const lvl = '      - { after: 0s, notify: ["webhook:phone"] }';
    expect(() =>
      parseConfig(
        yaml(lvl, `  phone: { kind: webhook, url: "https://x.test/", body: "{{ttle}}" }`),
        {},
      ),
    ).toThrow(/notifiers\.phone\.body: unknown variable "ttle"/);
    expect(() =>
      parseConfig(yaml(lvl, `  phone: { kind: webhook, url: "ftp://x.test/" }`), {}),
    ).toThrow(/notifiers\.phone\.url: expected an http\(s\) URL/);
    expect(() =>
      parseConfig(
        yaml(
          lvl,
          `  phone: { kind: webhook, url: "https://x.test/", headers: { Authorization: "Bearer \${NTFY_TOKEN}" } }`,
        ),
        {},
      ),
    ).toThrow(
      /notifiers\.phone\.headers\.Authorization: environment variable NTFY_TOKEN is not set/,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/errors.js';
import { parseGeneric, parseGrafana } from '../../../src/intake/index.js';
import { htmlTextLength } from '../../../src/telegram/html.js';

const unified = (alert: Record<string, unknown>) => ({
  receiver: 'opsbot',
  status: 'firing',
  alerts: [{ status: 'firing', labels: { alertname: 'HighCPU' }, fingerprint: 'f1', ...alert }],
});

describe('alert images', () => {
  it('Grafana imageURL (unified) and imageUrl (legacy) become the alert image; non-http ones are dropped', () => {
    const url = 'https://grafana.example.com/public/img/attachments/x.png';
    expect(parseGrafana(unified({ imageURL: url }), 'g')[0]!.imageUrl).toBe(url);
    expect(parseGrafana(unified({ imageURL: 'file:///etc/passwd' }), 'g')[0]!.imageUrl).toBe(
      undefined,
    );
    expect(parseGrafana(unified({}), 'g')[0]!.imageUrl).toBe(undefined);
    const legacy = { title: 'CPU', ruleId: 3, state: 'alerting', imageUrl: url };
    expect(parseGrafana(legacy, 'g')[0]!.imageUrl).toBe(url);
  });

  it('generic image_url must be an http(s) URL: a clear error naming the field otherwise', () => {
    const url = 'http://ci.local:8080/chart.png?run=7';
    expect(parseGeneric({ title: 'x', status: 'firing', image_url: url }, 'ci')[0]!.imageUrl).toBe(
      url,
    );
    for (const bad of [
      'ftp://x/y.png',
      'https://',
      'data:image/png;base64,AAAA',
      `https://x/${'a'.repeat(2100)}`,
    ]) {
      let err: unknown;
      try {
        parseGeneric({ title: 'x', status: 'firing', image_url: bad }, 'ci');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).issues?.[0]?.path).toBe('image_url');
    }
  });

  it('counts HTML text as Telegram does: tags out, an entity one character', () => {
    expect(htmlTextLength('<b>a &amp; b</b> <a href="https://x">link</a>')).toBe(10);
  });
});

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { createI18n } from '../../src/i18n.js';

// a message is its first line plus indented continuation lines
function messages(file: string): Map<string, string> {
  const out = new Map<string, string>();
  let key: string | undefined;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([a-z0-9_-]+) = ?(.*)$/.exec(line);
    if (m) {
      key = m[1]!;
      out.set(key, m[2]!);
    } else if (key && /^ {4}/.test(line)) out.set(key, `${out.get(key)}\n${line.trim()}`);
    else key = undefined;
  }
  return out;
}
const vars = (s: string) => [...s.matchAll(/\{ *\$([a-z]+) *\}/g)].map((m) => m[1]).sort();
const tags = (s: string) => [...s.matchAll(/<\/?[a-z]+/g)].map((m) => m[0]).sort();

describe('locales', () => {
  const en = messages('locales/en.ftl');
  const ar = messages('locales/ar.ftl');

  it('en and ar have exactly the same messages', () => {
    expect([...ar.keys()].sort()).toEqual([...en.keys()].sort());
    expect(en.size).toBeGreaterThan(150);
  });

  it('every message keeps the same variables and HTML tags in both languages', () => {
    for (const [k, v] of en) {
      expect({ k, vars: vars(ar.get(k) ?? '') }).toEqual({ k, vars: vars(v) });
      expect({ k, tags: tags(ar.get(k) ?? '') }).toEqual({ k, tags: tags(v) });
    }
  });

  it('Arabic messages are Arabic, and both load through Fluent', () => {
    const { t } = createI18n();
    expect(t('ar', 'lang-set')).toMatch(/[\u0600-\u06FF]/);
    expect(t('ar', 'did-ack', { who: 'alice', id: 'INC-1' })).toContain('INC-1');
    expect(t('en', 'did-ack', { who: 'alice', id: 'INC-1' })).toBe(
      '👀 alice acknowledged <code>INC-1</code>.',
    );
    const arabic = [...ar.values()].filter((v) => /[\u0600-\u06FF]/.test(v)).length;
    expect(arabic / ar.size).toBeGreaterThan(0.8);
  });

  it('every key the code uses exists', () => {
    const src = [
      'src/bot/features/core.ts',
      'src/bot/features/incidents.ts',
      'src/telegram/views/incident.ts',
      'src/escalation/engine.ts',
      'src/runbooks/service.ts',
    ]
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const used = [...src.matchAll(/(?:tr|t)\((?:locale, |ctx\.locale, )?'([a-z0-9-]+)'/g)].map(
      (m) => m[1]!,
    );
    for (const k of used) expect({ k, known: en.has(k) }).toEqual({ k, known: true });
  });

  it('numbers read as Fluent (Intl.NumberFormat) writes them, in both languages', () => {
    const { t } = createI18n();
    for (const locale of ['en', 'ar'] as const) {
      for (const n of [0, 7, 999, 1000, 12_345, 1_234_567, Number.MAX_SAFE_INTEGER, 2.5, -3]) {
        const fluent = new Intl.NumberFormat(locale).format(n);
        expect({ locale, n, text: t(locale, 'status-open', { count: n }) }).toEqual({
          locale,
          n,
          text: t(locale, 'status-open', { count: 'X' }).replace('X', fluent),
        });
      }
    }
  });

  it('no message selects on a plural category (numbers reach Fluent as text)', () => {
    for (const file of ['locales/en.ftl', 'locales/ar.ftl'])
      expect(readFileSync(file, 'utf8')).not.toMatch(/\[(zero|one|two|few|many)\]/);
  });

  it('a message missing in Arabic falls back to English; one missing everywhere reads {key}', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'opsbot-ftl-'));
    writeFileSync(path.join(dir, 'en.ftl'), 'only-en = Hello { $who }\nboth = en\n');
    writeFileSync(path.join(dir, 'ar.ftl'), 'both = ar\n');
    const { t } = createI18n(dir);
    expect(t('ar', 'both')).toBe('ar');
    expect(t('ar', 'only-en', { who: 'bob' })).toBe('Hello bob');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(t('en', 'nope')).toBe('{nope}');
    expect(warn).toHaveBeenCalledOnce();
    warn.mockRestore();
  });
});

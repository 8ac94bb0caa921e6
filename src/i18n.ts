import path from 'node:path';
import { I18n } from '@grammyjs/i18n';
import { projectRoot } from './paths.js';

export const LOCALES = ['en', 'ar'] as const;
export type Locale = (typeof LOCALES)[number];

export function isLocale(v: string | undefined | null): v is Locale {
  return v === 'en' || v === 'ar';
}

/** Translates `key` in `locale`; variables must already be HTML-escaped where they are user text. */
export type Translate = (
  locale: Locale,
  key: string,
  vars?: Record<string, string | number>,
) => string;

/**
 * A whole number ≥ 0 as Fluent would write it (`Intl.NumberFormat('en' | 'ar')`: `1,234,567`;
 * the unit test holds the two to the same output). Formatting counts here keeps ICU's number
 * formatting out of the process: the first Intl.NumberFormat maps ~4 MB of ICU data and allocates
 * ~1.5 MB more, for life, only to group digits. Anything else (fractions, negatives) still goes to
 * Fluent. A variable passed this way is a string to Fluent, so no message may select on a plural
 * category of a number (`[one]`, `[few]`…); the locales test rejects one.
 */
function wholeNumber(n: number): string | number {
  if (!Number.isSafeInteger(n) || n < 0) return n;
  return String(n).replace(/\B(?=(\d{3})+$)/g, ',');
}

function plainVars(vars: Record<string, string | number>): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const k in vars) {
    const v = vars[k]!;
    out[k] = typeof v === 'number' ? wholeNumber(v) : v;
  }
  return out;
}

/** Loads locales/*.ftl (Fluent) once; every user-facing string comes from there. */
export function createI18n(dir = path.join(projectRoot(), 'locales')): {
  i18n: I18n;
  t: Translate;
} {
  const i18n = new I18n({ defaultLocale: 'en', fluentBundleOptions: { useIsolating: false } });
  i18n.loadLocalesDirSync(dir);
  const t: Translate = (locale, key, vars) => i18n.t(locale, key, vars && plainVars(vars));
  return { i18n, t };
}

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

/** Loads locales/*.ftl (Fluent) once; every user-facing string comes from there. */
export function createI18n(dir = path.join(projectRoot(), 'locales')): {
  i18n: I18n;
  t: Translate;
} {
  const i18n = new I18n({ defaultLocale: 'en', fluentBundleOptions: { useIsolating: false } });
  i18n.loadLocalesDirSync(dir);
  memoizeBundleMatch(i18n);
  const t: Translate = (locale, key, vars) => i18n.t(locale, key, vars);
  return { i18n, t };
}

/**
 * @grammyjs/i18n negotiates the language (parsing locale tags, building arrays) on every
 * translation, and a card takes a dozen; the bundles are loaded once, so each locale's match is
 * kept after its first use (same bundles, same order, same fallbacks).
 */
function memoizeBundleMatch(i18n: I18n): void {
  const fluent = i18n.fluent as unknown as { matchBundles?: (locales: string[]) => unknown };
  const match = fluent.matchBundles?.bind(fluent);
  if (!match) return;
  const seen = new Map<string, unknown>();
  fluent.matchBundles = (locales) => {
    const k = locales.join('\u0000');
    let m = seen.get(k);
    if (m === undefined) seen.set(k, (m = match(locales)));
    return m;
  };
}

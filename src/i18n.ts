import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FluentBundle, FluentResource } from '@fluent/bundle';
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

/**
 * Loads locales/<locale>.ftl (Fluent) once; every user-facing string comes from there. A message
 * missing in a locale falls back to English; one missing everywhere reads `{key}` (and is
 * logged). Fluent directly, not the @grammyjs/i18n plugin (its Deno shim and middleware, ~1.5 MB of
 * RSS, were only ever used to load these two files: no handler reads ctx.t).
 */
export function createI18n(dir = path.join(projectRoot(), 'locales')): { t: Translate } {
  const bundles = new Map<Locale, FluentBundle>();
  for (const locale of LOCALES) {
    const bundle = new FluentBundle(locale, { useIsolating: false });
    const errors = bundle.addResource(
      new FluentResource(readFileSync(path.join(dir, `${locale}.ftl`), 'utf8')),
    );
    if (errors.length)
      throw new Error(`locales/${locale}.ftl: ${errors.map((e) => e.message).join('; ')}`);
    bundles.set(locale, bundle);
  }
  // each locale's bundles in the order tried, built once (no negotiation per translation)
  const fallback = bundles.get('en')!;
  const order = new Map<string, FluentBundle[]>(
    LOCALES.map((l) => [l, [...new Set([bundles.get(l)!, fallback])]]),
  );
  const t: Translate = (locale, key, vars) => {
    const [id, attribute] = key.split('.', 2) as [string, string | undefined];
    for (const bundle of order.get(locale) ?? [fallback]) {
      const message = bundle.getMessage(id);
      const pattern = attribute ? message?.attributes[attribute] : message?.value;
      // no errors array: a variable the message needs but was not given throws, as before
      if (pattern) return bundle.formatPattern(pattern, vars && plainVars(vars));
    }
    console.warn(`Translation message "${key}" is missing in locales ${LOCALES.join(', ')}.`);
    return `{${key}}`;
  };
  return { t };
}

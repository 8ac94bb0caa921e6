/**
 * Dedup keys are kept apart per integration: the key stored in Redis (`<prefix>dedup:<scoped>`) and
 * in the incident's `dedup` field is `<integration>/<sender's key>`, so one integration's token can
 * never fold into, acknowledge or resolve another integration's incidents, even of the same kind and
 * with the same `dedup_key`. Integration names cannot contain `/` (config: letters, digits, `_ . -`),
 * so the first `/` always ends the name. Alerts of no integration (`/declare`) keep their own key.
 */
export function scopeDedup(integration: string, key: string): string {
  return integration ? `${integration}/${key}` : key;
}

/** The sender's own key of a stored (scoped) dedup key: what the API and messages show. */
export function senderDedup(integration: string, stored: string): string {
  const p = `${integration}/`;
  return integration && stored.startsWith(p) ? stored.slice(p.length) : stored;
}

/** Escapes text for Telegram's HTML parse mode. Every user- or alert-supplied string goes through this. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

const TAG_RE = /<\/?([a-z-]+)(?:\s[^>]*)?>/gi;

/**
 * Trims Telegram HTML to at most `max` characters without breaking tags or entities:
 * cuts at a safe point, closes the tags still open, and appends an ellipsis.
 */
export function trimHtml(html: string, max = 4000): string {
  if (html.length <= max) return html;
  const budget = max - 40;
  let cut = budget;
  // never cut inside a tag or an entity
  const lastLt = html.lastIndexOf('<', cut);
  const lastGt = html.lastIndexOf('>', cut);
  if (lastLt > lastGt) cut = lastLt;
  const lastAmp = html.lastIndexOf('&', cut);
  const lastSemi = html.lastIndexOf(';', cut);
  if (lastAmp > lastSemi && cut - lastAmp < 10) cut = lastAmp;
  const head = html.slice(0, cut);
  const open: string[] = [];
  for (const m of head.matchAll(TAG_RE)) {
    const tag = m[1]!.toLowerCase();
    if (m[0].startsWith('</')) {
      const i = open.lastIndexOf(tag);
      if (i >= 0) open.splice(i, 1);
    } else if (!m[0].endsWith('/>')) open.push(tag);
  }
  return `${head}…${open
    .reverse()
    .map((t) => `</${t}>`)
    .join('')}`;
}

/** Plain text trimmed to `max` characters with an ellipsis. */
export function trimText(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/** How many characters Telegram counts in an HTML text: tags left out, each entity one character. */
export function htmlTextLength(html: string): number {
  return html.replace(/<[^>]*>/g, '').replace(/&(?:[a-z]+|#\d+|#x[0-9a-f]+);/gi, '_').length;
}

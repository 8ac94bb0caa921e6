import { describe, expect, it } from 'vitest';
import { escapeHtml, trimHtml } from '../../../src/telegram/html.js';

describe('html', () => {
  it('escapes everything Telegram HTML treats specially', () => {
    expect(escapeHtml('<b>&"x"</b>')).toBe('&lt;b&gt;&amp;&quot;x&quot;&lt;/b&gt;');
  });

  it('trims long HTML without breaking tags or entities', () => {
    const body = `<b>${'a'.repeat(3000)}</b><pre>${'x&amp;'.repeat(500)}</pre>`;
    const out = trimHtml(body, 4000);
    expect(out.length).toBeLessThanOrEqual(4000);
    expect(out.endsWith('</pre>')).toBe(true);
    expect(out).not.toMatch(/&[a-z]*…/);
    const opens = (out.match(/<pre>/g) ?? []).length;
    const closes = (out.match(/<\/pre>/g) ?? []).length;
    expect(opens).toBe(closes);
  });

  it('leaves short HTML alone', () => {
    expect(trimHtml('<i>x</i>', 100)).toBe('<i>x</i>');
  });
});

import { describe, expect, it } from 'vitest';
import { createI18n } from '../../../src/i18n.js';
import { parseRunbook } from '../../../src/runbooks/loader.js';
import type { RunShown } from '../../../src/runbooks/messages.js';
import {
  createRunbookMessages,
  renderRun,
  runbookList,
  runOutput,
  voteKeyboard,
} from '../../../src/telegram/views/runbooks.js';

const { t } = createI18n();
const tr = (key: string, vars?: Record<string, string | number>) => t('en', key, vars);
const rb = parseRunbook(
  [
    'id: restart',
    'title: Restart <svc>',
    'description: Restarts it',
    'approval: { required: true, approvers: 2 }',
    'params: [{ name: svc, enum: [api, "a&b"] }]',
    'steps: [{ name: "go <now>", run: [echo, "{{svc}}"] }]',
  ].join('\n'),
  'restart.yaml',
);
const shown: RunShown = {
  params: { svc: 'a&b' },
  requester: '<bob>',
  incident: 'INC-4',
  approvals: [{ id: '1', name: 'al<i>ce', at: 0 }],
  needed: 2,
  expiresAt: Date.parse('2026-01-05T09:15:00Z'),
  state: 'pending',
};

describe('runbook views', () => {
  it('a pending request escapes every user string and shows approvals and pending steps', () => {
    const html = renderRun(tr, rb, shown);
    expect(html).toContain('Restart &lt;svc&gt;');
    expect(html).toContain('Requested by &lt;bob&gt; · INC-4');
    expect(html).toContain('svc=<code>a&amp;b</code>');
    expect(html).toContain('Approvals: 1/2 (al&lt;i&gt;ce)');
    expect(html).toContain('Waiting for approval until');
    expect(html).toContain('▫️ go &lt;now&gt;');
    expect(html).not.toMatch(/<bob>|<svc>|<now>/);
  });

  it('rejected and expired requests list no steps; a finished run shows its result and output tail', () => {
    expect(renderRun(tr, rb, { ...shown, state: 'expired' })).not.toContain('go &lt;now&gt;');
    const done = renderRun(
      tr,
      rb,
      { ...shown, state: 'running' },
      [{ name: 'go <now>', status: 'ok', durationMs: 1200, output: 'l1\nl2\n<b>l3</b>' }],
      { status: 'ok', steps: [], output: '', durationMs: 1200 },
    );
    expect(done).toContain('✅ go &lt;now&gt;');
    expect(done).toContain('<pre>l1\nl2\n&lt;b&gt;l3&lt;/b&gt;</pre>');
    expect(done).toContain('Finished in');
  });

  it('buttons carry the approval token and the runbook ids', () => {
    const kb = voteKeyboard(tr, 'ab'.repeat(16));
    expect(kb.inline_keyboard[0]!.map((b) => 'callback_data' in b && b.callback_data)).toEqual([
      `ap:y:${'ab'.repeat(16)}`,
      `ap:n:${'ab'.repeat(16)}`,
    ]);
    const list = runbookList(tr, [rb], []);
    expect(list.keyboard.inline_keyboard).toEqual([
      [{ text: 'restart', callback_data: 'rs:restart' }],
    ]);
  });

  it('the service messages close the request with the reason', () => {
    const m = createRunbookMessages(t);
    const locked = m.locked(rb, shown, 'lk<1>', '<carol>', 'en');
    expect(locked).toContain(
      'lock <code>lk&lt;1&gt;</code> is held by a run requested by &lt;carol&gt;',
    );
    expect(locked).not.toContain('Waiting for approval');
    expect(m.refusedRole(rb, shown, 'en')).toContain(
      '&lt;bob&gt; no longer has the <b>responder</b>',
    );
    expect(m.interrupted('<x>', 'en')).toContain('<b>&lt;x&gt;</b>');
  });

  it('run output shows the last 3,500 characters, escaped', () => {
    const out = runOutput(tr, 'restart', `${'x'.repeat(4000)}<end>`);
    expect(out).toContain('…');
    expect(out).toContain('&lt;end&gt;</pre>');
    expect(out.length).toBeLessThan(3700);
  });
});

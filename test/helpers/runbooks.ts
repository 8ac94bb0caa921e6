import { GROUP } from './config.js';
import type { BotMessage, TelegramKit } from './telegram.js';

/** The node binary, quoted for a runbook step's argv in YAML. */
export const NODE = JSON.stringify(process.execPath);

/**
 * A runbook `append` (needs one approval, responder) whose one step appends `{{word}}` to
 * `counter`, so a test counts executions by counting lines.
 */
export function appendRunbook(counter: string, extraStep = ''): string {
  return `id: append
title: Append a line
description: Appends to a file (counts executions).
approval: { required: true, approvers: 1 }
role: responder
params:
  - { name: word, pattern: "^[a-z]{1,10}$", default: "x" }
steps:
  - name: append
    run: [${NODE}, -e, "require('fs').appendFileSync(process.argv[1], process.argv[2] + '\\\\n')", ${JSON.stringify(counter)}, "{{word}}"]
${extraStep}`;
}

/**
 * Sends a `/run` command (through `send`) and resolves with the approval request the bot then posts
 * in the group: the first new message that says who requested it.
 */
export async function runRequest(
  kit: TelegramKit,
  send: () => Promise<unknown>,
  label: string,
): Promise<BotMessage> {
  const before = new Set(kit.botMessages(GROUP).map((m) => m.messageId));
  await send();
  return kit.waitFor(
    () =>
      kit
        .botMessages(GROUP)
        .find((m) => !before.has(m.messageId) && m.text.includes('Requested by')),
    { label: `request ${label}` },
  );
}

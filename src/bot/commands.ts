import type { CommandContext, Composer } from 'grammy';
import { roleAtLeast, type Role } from '../config.js';
import type { BotContext } from './context.js';
import { requireRole } from './roles.js';

/** One bot command: who may use it, where /help lists it, and its /help line (`help-<name>`). */
export interface CommandSpec {
  name: string;
  /** Minimum role; checked before the handler runs, and used by /help. */
  role: Role;
  /** Minimum role in a group or channel, where the command changes things for everyone. */
  groupRole?: Role;
  /** Listed by /help only in a private chat (the answer is personal). */
  privateOnly?: boolean;
}

/**
 * Every command the bot answers, in /help order. `command()` registers a handler only for a name in
 * this table and checks its role first, so the checks and /help cannot drift apart. Handlers may
 * still refuse more (a runbook takes its own role to run).
 */
export const COMMANDS: readonly CommandSpec[] = [
  { name: 'start', role: 'viewer' },
  { name: 'help', role: 'viewer' },
  { name: 'status', role: 'viewer' },
  { name: 'lang', role: 'viewer', groupRole: 'responder' },
  { name: 'incidents', role: 'viewer' },
  { name: 'incident', role: 'viewer' },
  { name: 'oncall', role: 'viewer' },
  { name: 'runbooks', role: 'viewer' },
  { name: 'runbook', role: 'viewer' },
  { name: 'silences', role: 'viewer' },
  { name: 'stats', role: 'viewer' },
  { name: 'ack', role: 'responder' },
  { name: 'unack', role: 'responder' },
  { name: 'resolve', role: 'responder' },
  { name: 'escalate', role: 'responder' },
  { name: 'note', role: 'responder' },
  { name: 'update', role: 'responder' },
  { name: 'sev', role: 'responder' },
  { name: 'assign', role: 'responder' },
  { name: 'silence', role: 'responder' },
  { name: 'declare', role: 'responder' },
  { name: 'cancel', role: 'viewer' },
  { name: 'run', role: 'responder' },
  { name: 'postmortem', role: 'responder' },
  { name: 'maintenance', role: 'admin' },
  { name: 'override', role: 'admin' },
  { name: 'audit', role: 'admin' },
  { name: 'notify', role: 'viewer' },
  { name: 'whoami', role: 'viewer' },
  { name: 'role', role: 'responder' },
  { name: 'cover', role: 'responder' },
  { name: 'swap', role: 'responder' },
  { name: 'calendar', role: 'viewer', privateOnly: true },
];

const BY_NAME = new Map(COMMANDS.map((c) => [c.name, c]));

export function commandSpec(name: string): CommandSpec | undefined {
  return BY_NAME.get(name);
}

/** The role a command takes in a private chat or in a group. */
export function roleFor(spec: CommandSpec, privateChat: boolean): Role {
  return privateChat ? spec.role : (spec.groupRole ?? spec.role);
}

/** The commands /help lists for a role in a chat: those the role may use there, private ones in private. */
export function commandsFor(role: Role, privateChat: boolean): CommandSpec[] {
  return COMMANDS.filter(
    (c) => roleAtLeast(role, roleFor(c, privateChat)) && (privateChat || !c.privateOnly),
  );
}

/**
 * Registers a command handler behind its table role check. A name missing from `COMMANDS` is a
 * programming error and throws when the bot is built.
 */
export function command(
  c: Composer<BotContext>,
  name: string,
  handler: (ctx: CommandContext<BotContext>) => unknown,
): void {
  const spec = commandSpec(name);
  if (!spec) throw new Error(`command /${name} is not in the command table`);
  c.command(name, async (ctx) => {
    if (!(await requireRole(ctx, roleFor(spec, ctx.chat.type === 'private')))) return;
    await handler(ctx);
  });
}

/**
 * Process-group bookkeeping for runbook steps. Each step leads its own process group (pgid = the
 * step's pid). These helpers tell whether a group still has members, identify a group leader across
 * a restart (boot id + start time, so a reused pid is never mistaken for a leftover step) and kill
 * a group. Linux `/proc` is used where present; elsewhere the checks fall back to `kill(-pgid, 0)`.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** Where a step's process group ran: recorded in Redis so a successor on the same host can kill it. */
export interface GroupRecord {
  pgid: number;
  host: string;
  /** Kernel boot id; a different one means the host rebooted and the group is gone. */
  boot?: string;
  /** Start time of the group leader (clock ticks since boot); guards against pid reuse. */
  start?: string;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Fields of /proc/<pid>/stat after the `(comm)` field: [state, ppid, pgrp, …]. */
function statFields(pid: number | string): string[] | undefined {
  const raw = readText(`/proc/${pid}/stat`);
  if (!raw) return undefined;
  return raw.slice(raw.lastIndexOf(')') + 2).split(' ');
}

const hasProc = (() => {
  try {
    return readdirSync('/proc').includes('self');
  } catch {
    return false;
  }
})();

/** This boot of the kernel, when the platform says (Linux). */
export function bootId(): string | undefined {
  return readText('/proc/sys/kernel/random/boot_id')?.trim() || undefined;
}

/** Start time of a process (clock ticks after boot, Linux), to tell it from a later one with its pid. */
export function processStart(pid: number): string | undefined {
  return statFields(pid)?.[19];
}

/** True when some process still belongs to group `pgid` (never signals anything on Linux). */
export function groupAlive(pgid: number): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1) return false;
  if (!hasProc) {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return false;
  }
  for (const n of names) {
    if (n.charCodeAt(0) < 48 || n.charCodeAt(0) > 57) continue;
    if (statFields(n)?.[2] === String(pgid)) return true;
  }
  return false;
}

/**
 * Sends `signal` to every process of group `pgid`, only while the group has members: a pgid in use
 * by a live group is never handed to a new process, so the signal cannot reach a stranger.
 * Returns true when a signal was sent.
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  if (!groupAlive(pgid)) return false;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Kills a process group left by a crashed predecessor on this host, after checking it is still the
 * same group (same boot, same leader start time when the leader is still there). Returns true when
 * it was killed.
 */
export function killLeftoverGroup(rec: GroupRecord): boolean {
  const now = bootId();
  if (rec.boot && now && rec.boot !== now) return false; // rebooted: nothing survived
  if (rec.start) {
    const start = processStart(rec.pgid);
    // the leader's pid now belongs to another process: the old group is gone
    if (start !== undefined && start !== rec.start) return false;
  }
  return signalGroup(rec.pgid, 'SIGKILL');
}

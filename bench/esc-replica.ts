/**
 * One replica of the scale/escalation bench (bench/scale.ts), in a process of its own as in
 * production: several replicas never share an event loop or a heap. Forked with IPC; its clock is
 * a jump clock held still at the bench's creation time until the bench says when to jump, so all
 * replicas reach the due moment together (the bench sends the jump to each at once).
 *
 * Started as `node --import tsx bench/esc-replica.ts replica`. Messages from the bench, each answered with `{ re: <same id>, ... }`:
 *   { id, op: 'start', apiRoot, token, yaml, prefix, created }   -> { url }
 *   { id, op: 'jump', t }                                        -> {}
 *   { id, op: 'count' }   -> { ok: levels this replica fired, cpuMs: its CPU since start }
 *   { id, op: 'stop' }    -> {} and the process exits
 */
import type { Clock } from '../src/clock.js';
import { parseConfig } from '../src/config.js';
import { startTestApp, type TestApp } from '../test/helpers/app.js';

/** Holds still at `frozen` until `jumpTo`, then runs in real time from there. */
export class JumpClock implements Clock {
  private frozen: number | undefined;
  private offset = 0;
  constructor(at = Date.now()) {
    this.frozen = at;
  }
  now(): number {
    return this.frozen ?? Date.now() + this.offset;
  }
  jumpTo(t: number): void {
    this.offset = t - Date.now();
    this.frozen = undefined;
  }
}

export type ReplicaOp =
  | { op: 'start'; apiRoot: string; token: string; yaml: string; prefix: string; created: number }
  | { op: 'jump'; t: number }
  | { op: 'count' }
  | { op: 'stop' };

if (process.send && process.argv[2] === 'replica') {
  let app: TestApp | undefined;
  let clock: JumpClock | undefined;
  const cpu0 = process.cpuUsage();
  const reply = (re: number, body: object) => process.send!({ re, ...body });
  process.on('message', (m: ReplicaOp & { id: number }) => {
    void (async () => {
      try {
        if (m.op === 'start') {
          clock = new JumpClock(m.created);
          app = await startTestApp({
            apiRoot: m.apiRoot,
            token: m.token,
            config: parseConfig(m.yaml, {}),
            polling: false,
            prefix: m.prefix,
            clock,
          });
          reply(m.id, { url: app.url });
        } else if (m.op === 'jump') {
          clock!.jumpTo(m.t);
          reply(m.id, {});
        } else if (m.op === 'count') {
          let ok = 0;
          for (const v of (await app!.app.services.metrics.escalations.get()).values)
            if (v.labels.result === 'ok') ok += v.value;
          const c = process.cpuUsage(cpu0);
          reply(m.id, { ok, cpuMs: (c.user + c.system) / 1000 });
        } else {
          await app?.stop();
          reply(m.id, {});
          process.disconnect();
        }
      } catch (e) {
        reply(m.id, { error: String((e as Error)?.stack ?? e) });
      }
    })();
  });
}

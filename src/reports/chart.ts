import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { IncidentStats } from './stats.js';

export interface ChartOptions {
  /** The render is abandoned (and the child killed) after this long (default 10 s). */
  timeoutMs?: number;
  /** A PNG larger than this is refused (default 2 MiB). */
  maxBytes?: number;
  /** The child's heap cap in MB (default 96), applied when a child is started. */
  heapMb?: number;
  /** An idle child exits after this long without a chart (default 60 s). */
  idleMs?: number;
}

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * How to start the renderer: the compiled `chart-child.js` beside this file, or, when running from
 * the TypeScript sources (tests, `npm run dev`), `chart-child.ts` through tsx.
 */
function childCommand(heapMb: number): { args: string[] } {
  const js = fileURLToPath(new URL('./chart-child.js', import.meta.url));
  // a 1 MB young generation: the child allocates little between charts (~94 -> ~89 MB RSS here)
  const heap = [`--max-old-space-size=${heapMb}`, '--max-semi-space-size=1'];
  if (existsSync(js)) return { args: [...heap, js] };
  const ts = fileURLToPath(new URL('./chart-child.ts', import.meta.url));
  return { args: [...heap, '--import', 'tsx', ts] };
}

interface Warm {
  child: ChildProcessWithoutNullStreams;
  buf: Buffer;
  err: string;
  /** The render waiting for its frame, if any. */
  waiting?: { onFrame: () => void; onExit: (e: Error) => void };
  idle?: NodeJS.Timeout;
}

let warm: Warm | undefined;
let queue: Promise<unknown> = Promise.resolve();

function start(heapMb: number): Warm {
  const { args } = childCommand(heapMb);
  // argv array, no shell; a minimal environment (the child needs no secrets)
  const child = spawn(process.execPath, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    // MALLOC_ARENA_MAX=1: one glibc arena, as `npm start` gives the bot
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: process.env.NODE_ENV ?? 'production',
      MALLOC_ARENA_MAX: '1',
    },
  });
  const w: Warm = { child, buf: Buffer.alloc(0), err: '' };
  // the bot never waits for its renderer: when the bot exits, the child's stdin closes and it exits
  child.unref();
  for (const s of [child.stdin, child.stdout, child.stderr])
    (s as unknown as { unref?: () => void }).unref?.();
  child.stdout.on('data', (c: Buffer) => {
    w.buf = w.buf.length ? Buffer.concat([w.buf, c]) : c;
    w.waiting?.onFrame();
  });
  child.stderr.on('data', (c: Buffer) => {
    if (w.err.length < 2000) w.err += c.toString('utf8');
  });
  child.stdin.on('error', () => {}); // a child that died: reported by 'close'
  const gone = (why: string) => {
    if (warm === w) warm = undefined;
    if (w.idle) clearTimeout(w.idle);
    w.waiting?.onExit(new Error(`chart: renderer ${why}: ${w.err.trim()}`));
  };
  child.on('error', (e) => gone(e.message));
  child.on('close', (code, signal) => gone(`exited ${code ?? signal}`));
  return w;
}

function retire(w: Warm): void {
  if (warm === w) warm = undefined;
  if (w.idle) clearTimeout(w.idle);
  w.child.kill('SIGKILL');
}

function renderOnce(s: IncidentStats, title: string, opts: ChartOptions): Promise<Buffer> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const maxBytes = opts.maxBytes ?? 2 * 1024 * 1024;
  const w = (warm ??= start(opts.heapMb ?? 96));
  if (w.idle) clearTimeout(w.idle);
  return new Promise<Buffer>((resolve, reject) => {
    const done = (e: Error | undefined, png?: Buffer) => {
      clearTimeout(timer);
      w.waiting = undefined;
      if (e) {
        retire(w);
        return reject(e);
      }
      const idleMs = opts.idleMs ?? 60_000;
      w.idle = setTimeout(() => retire(w), idleMs);
      w.idle.unref();
      resolve(png!);
    };
    const timer = setTimeout(
      () => done(new Error(`chart: timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    w.waiting = {
      onExit: (e) => done(e),
      onFrame: () => {
        if (w.buf.length < 5) return;
        const status = w.buf.readUInt8(0);
        const len = w.buf.readUInt32BE(1);
        if (status === 0 && len > maxBytes)
          return done(new Error(`chart: output over ${maxBytes} bytes`));
        if (w.buf.length < 5 + len) return;
        const body = w.buf.subarray(5, 5 + len);
        w.buf = w.buf.subarray(5 + len);
        if (status !== 0) return done(new Error(body.toString('utf8')));
        if (body.length < PNG_MAGIC.length || !body.subarray(0, 8).equals(PNG_MAGIC))
          return done(new Error('chart: renderer wrote no PNG'));
        done(undefined, Buffer.from(body));
      },
    };
    w.child.stdin.write(`${JSON.stringify({ stats: s, title })}\n`);
  });
}

/**
 * Renders incidents per severity and MTTA/MTTR medians (minutes) to an 800×450 PNG in a child
 * process (src/reports/chart-child.ts): chart.js and the native canvas (~25 MB) never load into
 * the bot, so its RSS stays flat during /stats. The child is kept warm for `idleMs` after a chart
 * (starting node and loading chart.js costs ~100 ms, a chart ~20 ms); charts are drawn one at a
 * time. Rejects when the child fails, exceeds the timeout or the size cap, or writes something that
 * is not a PNG (that child is killed; the next chart starts a new one); callers fall back to text.
 */
export function renderStatsChart(
  s: IncidentStats,
  title: string,
  opts: ChartOptions = {},
): Promise<Buffer> {
  const p = queue.then(() => renderOnce(s, title, opts));
  queue = p.catch(() => {});
  return p;
}

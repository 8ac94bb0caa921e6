import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { IncidentStats } from './stats.js';

export interface ChartOptions {
  /** The child is killed after this long (default 10 s). */
  timeoutMs?: number;
  /** A PNG larger than this is refused (default 2 MiB). */
  maxBytes?: number;
  /** The child's heap cap in MB (default 96). */
  heapMb?: number;
}

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * How to start the renderer: the compiled `chart-child.js` beside this file, or, when running from
 * the TypeScript sources (tests, `npm run dev`), `chart-child.ts` through tsx.
 */
function childCommand(heapMb: number): { args: string[] } {
  const js = fileURLToPath(new URL('./chart-child.js', import.meta.url));
  const heap = `--max-old-space-size=${heapMb}`;
  if (existsSync(js)) return { args: [heap, js] };
  const ts = fileURLToPath(new URL('./chart-child.ts', import.meta.url));
  return { args: [heap, '--import', 'tsx', ts] };
}

/**
 * Renders incidents per severity and MTTA/MTTR medians (minutes) to an 800×450 PNG in a short-lived
 * child process (src/reports/chart-child.ts): chart.js and the native canvas (~25 MB) never load
 * into the bot, so its RSS stays flat during /stats. Rejects when the child fails, exceeds the
 * timeout or the size cap, or writes something that is not a PNG; callers fall back to text.
 */
export function renderStatsChart(
  s: IncidentStats,
  title: string,
  opts: ChartOptions = {},
): Promise<Buffer> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const maxBytes = opts.maxBytes ?? 2 * 1024 * 1024;
  const { args } = childCommand(opts.heapMb ?? 96);
  return new Promise<Buffer>((resolve, reject) => {
    // argv array, no shell; a minimal environment (the child needs no secrets)
    const child = spawn(process.execPath, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '', NODE_ENV: process.env.NODE_ENV ?? 'production' },
    });
    const out: Buffer[] = [];
    let size = 0;
    let err = '';
    let failure: Error | undefined;
    const fail = (e: Error) => {
      failure ??= e;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(
      () => fail(new Error(`chart: timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    child.stdout.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) return fail(new Error(`chart: output over ${maxBytes} bytes`));
      out.push(c);
    });
    child.stderr.on('data', (c: Buffer) => {
      if (err.length < 2000) err += c.toString('utf8');
    });
    child.on('error', (e) => fail(e));
    child.stdin.on('error', () => {}); // a child that died early: reported by 'close'
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (failure) return reject(failure);
      const png = Buffer.concat(out);
      if (code !== 0)
        return reject(new Error(`chart: renderer exited ${code ?? signal}: ${err.trim()}`));
      if (png.length < PNG_MAGIC.length || !png.subarray(0, 8).equals(PNG_MAGIC))
        return reject(new Error('chart: renderer wrote no PNG'));
      resolve(png);
    });
    child.stdin.end(JSON.stringify({ stats: s, title }));
  });
}

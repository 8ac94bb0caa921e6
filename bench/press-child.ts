/**
 * The load generator of the buttons bench (bench/scale.ts), in a process of its own and driven over
 * IPC. It plays Telegram delivering webhook updates: at most `connections` keep-alive connections
 * (Telegram's `max_connections`, 40 by default), one request in flight on each, updates sent in
 * order of their due time at a fixed rate (open loop: a press that waits for a free connection is
 * late, and its lateness counts).
 *
 * It speaks HTTP/1.1 over plain sockets with each request serialised beforehand: `fetch` costs
 * ~0.7 ms of CPU a request here, which on a 2-core machine took most of a core from the bot it
 * measured. Responses are read by their Content-Length (what fastify sends for a JSON body).
 *
 * Message `PressJob` in, `PressResult` out. Times are epoch milliseconds with sub-ms precision.
 */
import net from 'node:net';

export interface PressJob {
  host: string;
  port: number;
  path: string;
  headers: Record<string, string>;
  /** Request bodies, sent in this order. */
  bodies: string[];
  /** Requests a second. */
  rate: number;
  connections: number;
}

export interface PressResult {
  /** When each request was due (its place in the schedule). */
  dueAt: number[];
  /** When its whole response had arrived (NaN: none). */
  doneAt: number[];
  status: number[];
  body: string[];
  /** This process's CPU over the run (ms). */
  cpuMs: number;
  /** Schedule length / time taken to put the last request on a connection. */
  sentRate: number;
}

interface Conn {
  sock: net.Socket;
  /** The request in flight on it (-1: none). */
  current: number;
  buf: Buffer;
}

const epoch = () => performance.timeOrigin + performance.now();

function run(job: PressJob): Promise<PressResult> {
  const n = job.bodies.length;
  const head = Object.entries(job.headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  const requests = job.bodies.map((b) =>
    Buffer.from(
      `POST ${job.path} HTTP/1.1\r\nhost: ${job.host}:${job.port}\r\n${head}content-length: ${Buffer.byteLength(b)}\r\n\r\n${b}`,
    ),
  );
  const res: PressResult = {
    dueAt: new Array<number>(n).fill(NaN),
    doneAt: new Array<number>(n).fill(NaN),
    status: new Array<number>(n).fill(0),
    body: new Array<string>(n).fill(''),
    cpuMs: 0,
    sentRate: 0,
  };
  const cpu0 = process.cpuUsage();
  let next = 0; // next request to schedule
  let done = 0;
  let lastSent = 0;
  const waiting: number[] = []; // due, no connection free yet
  const free: Conn[] = [];
  const t0 = epoch() + 20;

  return new Promise((resolve, reject) => {
    const finish = () => {
      for (const c of conns) c.sock.destroy();
      const u = process.cpuUsage(cpu0);
      res.cpuMs = (u.user + u.system) / 1000;
      res.sentRate = n / ((lastSent - t0) / 1000 || 1);
      resolve(res);
    };
    const send = (c: Conn, i: number) => {
      c.current = i;
      lastSent = epoch();
      c.sock.write(requests[i]!);
    };
    const release = (c: Conn) => {
      const i = waiting.shift();
      if (i !== undefined) send(c, i);
      else free.push(c);
    };
    const onData = (c: Conn, chunk: Buffer) => {
      c.buf = c.buf.length ? Buffer.concat([c.buf, chunk]) : chunk;
      for (;;) {
        const end = c.buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const headText = c.buf.subarray(0, end).toString('latin1');
        const len = Number(/\r\ncontent-length:\s*(\d+)/i.exec(headText)?.[1] ?? NaN);
        if (!Number.isFinite(len)) return reject(new Error(`no content-length: ${headText}`));
        if (c.buf.length < end + 4 + len) return;
        const i = c.current;
        res.doneAt[i] = epoch();
        res.status[i] = Number(headText.slice(9, 12));
        res.body[i] = c.buf.subarray(end + 4, end + 4 + len).toString('utf8');
        c.buf = c.buf.subarray(end + 4 + len);
        c.current = -1;
        if (++done === n) return finish();
        release(c);
      }
    };
    const conns: Conn[] = Array.from({ length: job.connections }, () => {
      const c: Conn = {
        sock: net.connect({ host: job.host, port: job.port, noDelay: true }),
        current: -1,
        buf: Buffer.alloc(0),
      };
      c.sock.on('data', (d: Buffer) => onData(c, d));
      c.sock.on('error', reject);
      c.sock.on('close', () => {
        if (c.current >= 0) reject(new Error(`connection closed with request ${c.current} open`));
      });
      free.push(c);
      return c;
    });
    // the schedule: request i is due at t0 + i / rate; each tick puts every due one on a free
    // connection or, when none is free, in line for the next connection that finishes
    const tick = () => {
      const now = epoch();
      while (next < n) {
        const due = t0 + (next * 1000) / job.rate;
        if (due > now) break;
        res.dueAt[next] = due;
        const c = free.pop();
        if (c) send(c, next);
        else waiting.push(next);
        next++;
      }
      if (next < n) setTimeout(tick, Math.max(0, t0 + (next * 1000) / job.rate - epoch()));
    };
    setTimeout(tick, 20);
  });
}

process.on('message', (job: PressJob) => {
  run(job).then(
    (r) => process.send!(r),
    (e: unknown) => process.send!({ error: String(e) }),
  );
});
process.once('disconnect', () => process.exit(0));

/**
 * The child processes of the intake bench (bench/intake.ts), each in its own process so that no
 * two of them share an event loop:
 *   node --import tsx bench/intake-child.ts bare    a bare fastify server that parses the same JSON
 *                                                   (prints its port on stdout)
 *   node --import tsx bench/intake-child.ts load    the load generator, driven over IPC: each message
 *                                                   { url, token, ms, concurrency, start } is answered
 *                                                   with { rps, n, errors }
 */
import Fastify from 'fastify';
import { amBody } from './intake-body.js';

export interface LoadJob {
  url: string;
  token: string;
  ms: number;
  concurrency: number;
  start: number;
}
export interface LoadResult {
  rps: number;
  n: number;
  errors: number;
}

/** Fires requests with `concurrency` keep-alive workers for `ms`; counts the 202s per second. */
async function load(job: LoadJob): Promise<LoadResult> {
  let i = job.start;
  let n = 0;
  let errors = 0;
  const end = Date.now() + job.ms;
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      while (Date.now() < end) {
        const r = await fetch(job.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${job.token}` },
          body: amBody(i++),
        });
        await r.arrayBuffer();
        if (r.status === 202) n++;
        else errors++;
      }
    }),
  );
  return { rps: n / ((Date.now() - t0) / 1000), n, errors };
}

async function bare() {
  const app = Fastify({ bodyLimit: 1024 * 1024 });
  app.post('/hooks/alertmanager', async (req, reply) =>
    reply
      .status(202)
      .send({ accepted: Array.isArray((req.body as { alerts?: unknown[] }).alerts) ? 1 : 0 }),
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  console.log(String(typeof addr === 'object' && addr ? addr.port : 0));
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

const mode = process.argv[2];
if (mode === 'bare') await bare();
else if (mode === 'load') {
  process.on('message', (job: LoadJob) => {
    void load(job).then((r) => process.send!(r));
  });
  process.once('disconnect', () => process.exit(0));
} else throw new Error(`intake-child: unknown mode ${mode}`);

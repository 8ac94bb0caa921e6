import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.js';

/**
 * `/healthz` (the process answers), `/readyz` (Redis and the Bot API reachable, else 503) and
 * `/metrics` (Prometheus text; served even while Redis is down, with process metrics only).
 */
export function healthRoutes(deps: { services: Services }) {
  const s = deps.services;
  return async function plugin(app: FastifyInstance) {
    app.get('/healthz', async () => ({ ok: true }));
    app.get('/readyz', async (_req, reply) => {
      const h = await s.health();
      return reply.status(h.redis && h.telegram ? 200 : 503).send(h);
    });
    app.get('/metrics', async (_req, reply) => {
      try {
        // counters kept by the scripts, never the open index
        const counts = await s.repo.counts();
        for (const [severity, n] of Object.entries(counts.open))
          s.metrics.incidentsOpen.set({ severity }, n);
        s.metrics.outboxDepth.set(await s.outbox.depth());
      } catch {
        /* Redis down: serve process metrics anyway */
      }
      return reply
        .header('content-type', s.metrics.registry.contentType)
        .send(await s.metrics.registry.metrics());
    });
  };
}

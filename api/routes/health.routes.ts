import { Router } from 'express';
import type { HealthProbe } from '../health-probe';

/**
 * Probes come right after the security headers and CORS, before request ids, metrics and logging:
 * orchestrators call them every few seconds on every replica, and the answer is a cached report
 * (O(1), no I/O), so the logging stack would be most of their cost. Liveness: the process answers.
 * Readiness: it can serve (Postgres and Temporal reachable); a missing cache or module only
 * degrades it. /health: the same report, 503 unless all is well.
 */
export function healthRoutes(health: HealthProbe): Router {
  const router = Router();
  router.get('/health/live', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/health/ready', async (_req, res) => {
    const report = await health.current();
    res.status(report.status === 'unavailable' ? 503 : 200).json(report);
  });
  router.get('/health', async (_req, res) => {
    const report = await health.current();
    res.status(report.status === 'ok' ? 200 : 503).json(report);
  });
  return router;
}

import { Router } from 'express';
import type { PerformanceRow, ReportsRepository } from '../../db/reports.repository';
import { parseOrThrow } from '../middleware/validate';
import { performanceReportQuery } from '../schemas';

const round = (value: number | null) => (value === null ? null : Math.round(value * 10) / 10);

function summarise(row: PerformanceRow, hours: number) {
  // Cancelled robots were stopped by people: they count neither as success nor as failure.
  const decided = row.completed + row.failed;
  return {
    finished: row.finished,
    completed: row.completed,
    failed: row.failed,
    cancelled: row.cancelled,
    throughputPerHour: Math.round((row.finished / hours) * 100) / 100,
    successRate: decided === 0 ? null : Math.round((row.completed / decided) * 10_000) / 10_000,
    latencyMs: {
      p50: round(row.p50Ms),
      p95: round(row.p95Ms),
      p99: round(row.p99Ms),
      mean: round(row.meanMs),
    },
    retries: row.retries,
  };
}

/** GET /v1/reports/performance?from&to: per robot type and per module, over robots finished then. */
export function reportsRoutes(reports: ReportsRepository): Router {
  const router = Router();
  router.get('/reports/performance', async (req, res) => {
    const { from, to } = parseOrThrow(performanceReportQuery, req.query, 'query');
    const hours = (to.getTime() - from.getTime()) / 3_600_000;
    const [byType, byModule] = await Promise.all([
      reports.performance('type', from, to),
      reports.performance('module', from, to),
    ]);
    res.json({
      from: from.toISOString(),
      to: to.toISOString(),
      robotTypes: Object.fromEntries(byType.map((row) => [row.key, summarise(row, hours)])),
      modules: Object.fromEntries(byModule.map((row) => [row.key, summarise(row, hours)])),
    });
  });
  return router;
}

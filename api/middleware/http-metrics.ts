import type { NextFunction, Request, Response } from 'express';
import { httpRequestDuration } from '../../core/observability/metrics';

/** Times every request by route pattern (never the raw URL, whose ids would explode cardinality). */
export function httpMetrics(req: Request, res: Response, next: NextFunction): void {
  const stop = httpRequestDuration.startTimer();
  res.on('finish', () => {
    const pattern = req.route?.path;
    const route = typeof pattern === 'string' ? `${req.baseUrl}${pattern}` : 'unmatched';
    stop({ method: req.method, route, status: String(res.statusCode) });
  });
  next();
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../../core/observability/logger';

// One lean line per request (method, path, status, time, request id), written when the answer is
// finished. pino-http made a child logger per request and serialised every header: about a tenth
// of a millisecond per request, most of what a cached read cost (ADR 0045). Refusals and errors
// are always logged; successes are sampled (ACCESS_LOG_SAMPLE_RATE), so a hot read need not pay a
// synchronous write to stdout per request.

export interface AccessLog {
  /** Logs `res` once it is finished; `startedAt` from performance.now(). */
  record(req: IncomingMessage, res: ServerResponse, startedAt: number, route?: string): void;
}

export function createAccessLog(logger: Logger, sampleRate: number, random = Math.random): AccessLog {
  return {
    record(req, res, startedAt, route) {
      if (res.statusCode < 400 && (sampleRate <= 0 || (sampleRate < 1 && random() >= sampleRate))) return;
      const requestId = res.getHeader('x-request-id');
      const fields = {
        req: { method: req.method, url: req.url, id: typeof requestId === 'string' ? requestId : undefined },
        res: { statusCode: res.statusCode },
        ...(route ? { route } : {}),
        responseTime: Math.round((performance.now() - startedAt) * 1000) / 1000,
      };
      if (res.statusCode >= 500) logger.error(fields, 'request failed');
      else logger.info(fields, 'request completed');
    },
  };
}

/** Express middleware over an AccessLog: skips /metrics, which scrapers call every few seconds. */
export function accessLogMiddleware(log: AccessLog) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.url === '/metrics') {
      next();
      return;
    }
    const startedAt = performance.now();
    res.on('finish', () => log.record(req, res, startedAt));
    next();
  };
}

import path from 'node:path';
import express, { type NextFunction, type Request, type Response, Router } from 'express';

/** The dashboard's files (top-level dashboard/): plain ES modules, HTML and CSS, served as they are. */
export const DASHBOARD_DIR = path.join(__dirname, '..', '..', 'dashboard');

// Only this origin's own files may run or load: no inline script or style, no third-party code,
// no framing. connect-src 'self' covers the /v1 calls, SSE streams, /metrics and /health.
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('content-security-policy', DASHBOARD_CSP);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  next();
}

/** Static dashboard under /dashboard; `/dashboard` redirects to `/dashboard/` so relative URLs resolve. */
export function dashboardRoutes(dir: string = DASHBOARD_DIR): Router {
  const router = Router();
  router.use(securityHeaders);
  // no-cache: revalidate with the ETag on each load, so a deploy shows at once without stale modules.
  router.use(express.static(dir, { index: 'index.html', redirect: true, setHeaders: noCache }));
  return router;
}

function noCache(res: Response): void {
  res.setHeader('cache-control', 'no-cache');
}

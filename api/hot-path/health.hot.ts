import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { HealthProbe, HealthReport } from '../health-probe';
import { type JsonBody, jsonBody, sendJson } from './json-answer';

/**
 * /health, /health/ready and /health/live on the bare node:http server, as api/routes/health.routes.ts
 * answers them through Express: the same status, JSON and headers. The report is cached by the probe
 * and changes at most every HEALTH_PROBE_MAX_AGE_MS, so its serialised body and ETag are kept with it.
 * Returns false when the path is not one of them.
 */
export function healthHotPath(health: HealthProbe, headers: OutgoingHttpHeaders) {
  const live = jsonBody({ status: 'ok' });
  let last: { report: HealthReport; json: JsonBody } | null = null;
  const serialised = (report: HealthReport): JsonBody => {
    if (last?.report !== report) last = { report, json: jsonBody(report) };
    return last.json;
  };
  return (_req: IncomingMessage, res: ServerResponse, path: string, handOn: () => void): boolean => {
    if (path === '/health/live') {
      sendJson(res, 200, live, headers);
      return true;
    }
    if (path !== '/health' && path !== '/health/ready') return false;
    const answer = (report: HealthReport) => {
      const ok = path === '/health' ? report.status === 'ok' : report.status !== 'unavailable';
      sendJson(res, ok ? 200 : 503, serialised(report), headers);
    };
    // The probe does not reject (every check is bounded and caught); if it ever did, Express's error
    // handler answers, as it would have.
    health.current().then(answer, handOn);
    return true;
  };
}

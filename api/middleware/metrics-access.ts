import type { RequestHandler } from 'express';
import { hasScope } from '../../core/domain/api-key-scopes';
import { bearerToken, isMetricsToken } from '../../core/observability/metrics-token';
import type { ApiKeyVerifier } from '../auth/key-verifier';
import { presentedKey } from './authenticate';
import { problem, sendProblem } from './problem';

/**
 * Who may scrape the API's /metrics. Without METRICS_TOKEN: anyone (as before; the operator keeps
 * the port private). With it: a scraper presenting the token, or an API key with the admin scope,
 * which is what the dashboard's metrics view sends (it already holds a key for /v1).
 */
export function metricsAccess(token: string | undefined, verifier: ApiKeyVerifier): RequestHandler {
  if (token === undefined) return (_req, _res, next) => next();
  return async (req, res, next) => {
    if (isMetricsToken(bearerToken(req.get('authorization')), token)) {
      next();
      return;
    }
    const key = presentedKey(req);
    const result = key ? await verifier.verify(key) : null;
    if (result?.ok) {
      if (hasScope(result.key.scopes, 'admin')) next();
      else
        sendProblem(
          res,
          problem(403, 'forbidden', 'Metrics need the METRICS_TOKEN or an API key with the "admin" scope.', {
            requiredScope: 'admin',
          }),
        );
      return;
    }
    res.setHeader('www-authenticate', 'Bearer realm="rpa-metrics"');
    sendProblem(
      res,
      problem(401, 'unauthorized', 'Send "Authorization: Bearer <METRICS_TOKEN>" or an admin API key.'),
    );
  };
}

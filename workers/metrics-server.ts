import { once } from 'node:events';
import http from 'node:http';
import type { Config } from '../core/config';
import type { Logger } from '../core/observability/logger';
import { metricsRegistry } from '../core/observability/metrics';
import { bearerToken, isMetricsToken } from '../core/observability/metrics-token';

/**
 * Workers have no API: when WORKER_METRICS_PORT is set they serve the process's Prometheus registry
 * (robots, steps, selection, module gauges) on `GET /metrics`; with METRICS_TOKEN set, only to
 * `Authorization: Bearer <token>` (workers hold no API keys). `GET /healthz` answers 200 without a
 * token for as long as the process serves: the liveness probe of Compose and Kubernetes, which hold
 * no token and must not read the metrics. Returns a closer, or null when off.
 */
export async function serveWorkerMetrics(
  config: Pick<Config, 'WORKER_METRICS_PORT' | 'WORKER_METRICS_HOST'> &
    Partial<Pick<Config, 'METRICS_TOKEN' | 'NODE_ENV'>>,
  logger: Logger,
): Promise<(() => Promise<void>) | null> {
  if (config.WORKER_METRICS_PORT === undefined) return null;
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('ok\n');
      return;
    }
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    const token = config.METRICS_TOKEN;
    if (token !== undefined && !isMetricsToken(bearerToken(req.headers.authorization), token)) {
      res.writeHead(401, { 'www-authenticate': 'Bearer realm="rpa-metrics"' }).end();
      return;
    }
    metricsRegistry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metricsRegistry.contentType }).end(text),
      (err: unknown) => {
        logger.error({ err }, 'metrics collection failed');
        res.writeHead(500).end();
      },
    );
  });
  server.listen(config.WORKER_METRICS_PORT, config.WORKER_METRICS_HOST);
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.WORKER_METRICS_PORT;
  logger.info({ url: `http://${config.WORKER_METRICS_HOST}:${port}/metrics` }, 'worker metrics served');
  if (config.NODE_ENV === 'production' && config.METRICS_TOKEN === undefined)
    logger.warn('METRICS_TOKEN is not set: the worker /metrics port is open to anyone who can reach it');
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}

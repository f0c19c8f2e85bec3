import { DefaultLogger, type LogLevel, Runtime } from '@temporalio/worker';
import type { Logger } from '../core/observability/logger';

const sdkLevel: Record<string, LogLevel> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  fatal: 'ERROR',
  silent: 'ERROR',
};

let installed = false;

/**
 * Routes the Temporal SDK's own logs into our pino logger (once per process, before any worker) and,
 * with `metricsBind` (host:port), has the SDK serve its own Prometheus metrics there.
 * `shutdownSignals`: the signals on which the SDK shuts every worker down itself (its default list
 * unless given); an SDK module passes none, because it deregisters its replica before its worker stops.
 */
export function installWorkerRuntime(
  logger: Logger,
  metricsBind?: string,
  options: { shutdownSignals?: NodeJS.Signals[] } = {},
): void {
  if (installed) return;
  installed = true;
  Runtime.install({
    ...(options.shutdownSignals ? { shutdownSignals: options.shutdownSignals } : {}),
    ...(metricsBind ? { telemetryOptions: { metrics: { prometheus: { bindAddress: metricsBind } } } } : {}),
    logger: new DefaultLogger(sdkLevel[logger.level] ?? 'INFO', (entry) => {
      const level =
        entry.level === 'TRACE'
          ? 'trace'
          : (entry.level.toLowerCase() as 'debug' | 'info' | 'warn' | 'error');
      logger[level]({ ...entry.meta, sdk: true }, entry.message);
    }),
  });
}

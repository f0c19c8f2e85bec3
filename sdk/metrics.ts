import type { Logger } from '../core/observability/logger';
import { moduleStepDuration, moduleSteps } from '../core/observability/metrics';
import { serveWorkerMetrics } from '../workers/metrics-server';

// The same series as the project's own module workers (rpa_module_steps_total and
// rpa_module_step_run_seconds, labelled by module and step kind), so one dashboard reads both.

/** `permanent`: the step's verdict (PermanentError); `failed`: an error Temporal retries. */
export type StepOutcome = 'ok' | 'failed' | 'permanent' | 'cancelled';

/** Starts timing one attempt; call the result with its outcome. */
export function timeStep(moduleName: string, kind: string): (outcome: StepOutcome) => void {
  const labels = { module: moduleName, step: kind };
  const stop = moduleStepDuration.startTimer(labels);
  return (outcome) => {
    stop();
    moduleSteps.inc({ ...labels, outcome });
  };
}

/** `GET /metrics` on the port (0: any free one), behind the token when given; resolves to a closer. */
export async function serveModuleMetrics(
  port: number,
  host: string,
  logger: Logger,
  token?: string,
): Promise<() => Promise<void>> {
  const close = await serveWorkerMetrics(
    {
      WORKER_METRICS_PORT: port,
      WORKER_METRICS_HOST: host,
      ...(token === undefined ? {} : { METRICS_TOKEN: token }),
    },
    logger,
  );
  return close ?? (async () => undefined);
}

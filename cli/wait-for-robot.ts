import { setTimeout as sleep } from 'node:timers/promises';
import { SingleBar } from 'cli-progress';
import { isTerminal } from '../core/domain/robot';
import type { ApiClient, RobotResponse } from './api-client';

/**
 * Polls a robot until it finishes, with a progress bar on a terminal; throws on timeout, or with the
 * signal's reason once it is aborted.
 */
export async function waitForRobot(
  api: ApiClient,
  robotId: string,
  options: { timeoutMs: number; showProgress: boolean; intervalMs?: number; signal?: AbortSignal },
): Promise<RobotResponse> {
  const bar = options.showProgress
    ? new SingleBar({
        format: ' {bar} {percentage}% | {status} {step}',
        hideCursor: true,
        clearOnComplete: false,
      })
    : null;
  bar?.start(100, 0, { status: 'queued', step: '' });
  const deadline = Date.now() + options.timeoutMs;
  try {
    for (;;) {
      options.signal?.throwIfAborted();
      const robot = await api.getRobot(robotId);
      bar?.update(robot.progress?.percent ?? 0, {
        status: robot.status,
        step: robot.progress?.currentStep ?? '',
      });
      // Parked: it waits for an operator, not for time; waiting on would only run into the timeout.
      if (isTerminal(robot.status) || robot.status === 'parked') return robot;
      if (Date.now() > deadline)
        throw new Error(`robot ${robotId} still ${robot.status} after ${options.timeoutMs} ms`);
      await sleep(options.intervalMs ?? 300, undefined, { signal: options.signal });
    }
  } finally {
    bar?.stop();
  }
}

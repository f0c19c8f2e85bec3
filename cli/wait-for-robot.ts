import { SingleBar } from 'cli-progress';
import { isTerminal } from '../core/domain/robot';
import type { ApiClient, RobotResponse } from './api-client';

/** Polls a robot until it finishes, with a progress bar on a terminal; throws on timeout. */
export async function waitForRobot(
  api: ApiClient,
  robotId: string,
  options: { timeoutMs: number; showProgress: boolean },
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
      const robot = await api.getRobot(robotId);
      bar?.update(robot.progress?.percent ?? 0, {
        status: robot.status,
        step: robot.progress?.currentStep ?? '',
      });
      // Parked: it waits for an operator, not for time; waiting on would only run into the timeout.
      if (isTerminal(robot.status) || robot.status === 'parked') return robot;
      if (Date.now() > deadline)
        throw new Error(`robot ${robotId} still ${robot.status} after ${options.timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  } finally {
    bar?.stop();
  }
}

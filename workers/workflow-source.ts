import { existsSync } from 'node:fs';
import type { WorkerOptions } from '@temporalio/worker';

/**
 * A prebuilt bundle (`npm run build:workflows`, or the tests' global setup) starts a worker in
 * milliseconds; without one the worker bundles `workflows/` itself, which takes seconds.
 */
export function workflowSource(
  bundlePath: string | undefined,
): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  if (bundlePath && existsSync(bundlePath)) return { workflowBundle: { codePath: bundlePath } };
  return { workflowsPath: require.resolve('../workflows') };
}

/** Default task queue of the control worker (robot workflows, persistence); CONTROL_TASK_QUEUE overrides it. */
export const DEFAULT_CONTROL_TASK_QUEUE = 'rpa-control';

/** Each module's worker pool polls its own queue; replicas of one module share it. */
export function moduleTaskQueue(moduleName: string): string {
  return `module-${moduleName}`;
}

import type { RobotEvents } from '../../domain/robot-events';

/** Without Redis there is no cross-process channel: streams poll instead. */
export class NoRobotEvents implements RobotEvents {
  readonly live = false;
  async publish(): Promise<void> {}
  async subscribe(): Promise<() => Promise<void>> {
    return async () => undefined;
  }
  async close(): Promise<void> {}
}

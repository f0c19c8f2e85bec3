import type { RobotView } from './robot';

/** Live robot updates: published after each progress write, consumed by the SSE stream. */
export interface RobotEvents {
  readonly live: boolean;
  publish(view: RobotView): Promise<void>;
  /** Calls `listener` for every update of the robot until the returned function is called. */
  subscribe(robotId: string, listener: (view: RobotView) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

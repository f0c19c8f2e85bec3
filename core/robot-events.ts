import Redis from 'ioredis';
import type { RobotView } from './robot';

/** Live robot updates: published after each progress write, consumed by the SSE stream. */
export interface RobotEvents {
  readonly live: boolean;
  publish(view: RobotView): Promise<void>;
  /** Calls `listener` for every update of the robot until the returned function is called. */
  subscribe(robotId: string, listener: (view: RobotView) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

const channel = (robotId: string) => `rpa:robot:${robotId}:events`;

/**
 * Redis pub/sub: one publishing connection, and one subscribing connection per process shared by
 * every stream (a Redis connection in subscriber mode can do nothing else).
 */
export class RedisRobotEvents implements RobotEvents {
  readonly live = true;
  private readonly publisher: Redis;
  private subscriber: Redis | null = null;
  private readonly listeners = new Map<string, Set<(view: RobotView) => void>>();

  constructor(private readonly url: string) {
    this.publisher = new Redis(url, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      commandTimeout: 1000,
    });
    this.publisher.on('error', () => undefined);
  }

  async publish(view: RobotView): Promise<void> {
    await this.publisher.publish(channel(view.robotId), JSON.stringify(view));
  }

  async subscribe(robotId: string, listener: (view: RobotView) => void): Promise<() => Promise<void>> {
    const subscriber = this.connectSubscriber();
    const name = channel(robotId);
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
      await subscriber.subscribe(name);
    }
    set.add(listener);
    return async () => {
      const current = this.listeners.get(name);
      current?.delete(listener);
      if (current && current.size === 0) {
        this.listeners.delete(name);
        await subscriber.unsubscribe(name).catch(() => undefined);
      }
    };
  }

  private connectSubscriber(): Redis {
    if (this.subscriber) return this.subscriber;
    const subscriber = new Redis(this.url, { maxRetriesPerRequest: 1 });
    subscriber.on('error', () => undefined);
    subscriber.on('message', (name: string, message: string) => {
      const set = this.listeners.get(name);
      if (!set) return;
      const view = JSON.parse(message) as RobotView;
      for (const listener of set) listener(view);
    });
    this.subscriber = subscriber;
    return subscriber;
  }

  async close(): Promise<void> {
    this.publisher.disconnect();
    this.subscriber?.disconnect();
  }
}

/** Without Redis there is no cross-process channel: streams poll instead. */
export class NoRobotEvents implements RobotEvents {
  readonly live = false;
  async publish(): Promise<void> {}
  async subscribe(): Promise<() => Promise<void>> {
    return async () => undefined;
  }
  async close(): Promise<void> {}
}

export function createRobotEvents(redisUrl: string | undefined): RobotEvents {
  return redisUrl ? new RedisRobotEvents(redisUrl) : new NoRobotEvents();
}

import type Redis from 'ioredis';
import type { RobotView } from '../../domain/robot';
import type { RobotEvents } from '../../domain/robot-events';
import { type RedisConfig, redisConnector } from './redis.client';
import { NoRobotEvents } from './robot-events.none';

const channel = (robotId: string) => `rpa:robot:${robotId}:events`;

/**
 * Redis pub/sub: one publishing connection, and one subscribing connection per process shared by
 * every stream (a Redis connection in subscriber mode can do nothing else).
 */
export class RedisRobotEvents implements RobotEvents {
  readonly live = true;
  private subscriber: Redis | null = null;
  private readonly listeners = new Map<string, Set<(view: RobotView) => void>>();

  /** Clients of the `eventsPublisher` and `eventsSubscriber` profiles (redis.client.ts). */
  constructor(
    private readonly publisher: Redis,
    private readonly newSubscriber: () => Redis,
  ) {}

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
    const subscriber = this.newSubscriber();
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

export function createRobotEvents(config: RedisConfig): RobotEvents {
  const redis = redisConnector(config);
  return redis
    ? new RedisRobotEvents(redis('eventsPublisher'), () => redis('eventsSubscriber'))
    : new NoRobotEvents();
}

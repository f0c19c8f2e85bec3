import type Redis from 'ioredis';
import {
  decodeKeyRevocation,
  encodeKeyRevocation,
  type KeyRevocations,
  noKeyRevocations,
} from '../../domain/key-revocations';
import { type RedisConfig, redisConnector } from './redis.client';

/** One channel per deployment (channels are not prefixed by ioredis's keyPrefix: the prefix is added here). */
export const keyRevocationsChannel = (keyPrefix: string) => `${keyPrefix}api-key-revocations`;

/**
 * Revocations on Redis pub/sub (ADR 0053). The publishing connection is made at the first revoke
 * (revokes are rare; a CLI run makes one and leaves); the subscribing one is made by `listen` and
 * reconnects forever. Pub/sub does not keep messages for a subscriber that is away, so each time the
 * subscription is (re)made, the listener is asked to `resync`.
 */
export class RedisKeyRevocations implements KeyRevocations {
  readonly live = true;
  private publisher: Redis | null = null;
  private subscriber: Redis | null = null;
  /** The latest SUBSCRIBE (again after each reconnect). */
  private subscribed: Promise<void> | null = null;

  constructor(
    private readonly channel: string,
    private readonly connect: { publisher(): Redis; subscriber(): Redis },
    /** How long a publish may wait for its connection before giving up (the publisher profile's timeout). */
    private readonly timeoutMs: number,
  ) {}

  async publish(keyPrefix: string): Promise<boolean> {
    this.publisher ??= this.connect.publisher();
    try {
      await untilReady(this.publisher, this.timeoutMs);
      await this.publisher.publish(this.channel, encodeKeyRevocation(keyPrefix));
      return true;
    } catch {
      return false;
    }
  }

  listen(handlers: { revoked(keyPrefix: string): void; resync(): void }): void {
    if (this.subscriber) throw new Error('key revocations: one listener per process');
    const subscriber = this.connect.subscriber();
    this.subscriber = subscriber;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      const prefix = decodeKeyRevocation(message);
      if (prefix === null) handlers.resync();
      else handlers.revoked(prefix);
    });
    // Once subscribed (again), whatever was published while not subscribed is gone: rows cached
    // before are checked again at their next use. Commands on a connection are answered in order, so
    // after this SUBSCRIBE's reply nothing more can be missed. (ioredis subscribes again by itself after
    // a reconnect too; a second SUBSCRIBE of the channel is harmless.)
    const subscribe = () => {
      this.subscribed = subscriber.subscribe(this.channel).then(() => handlers.resync());
      // Redis away: ioredis keeps reconnecting; until then the TTL bounds a revoke, as without Redis.
      this.subscribed.catch(() => undefined);
    };
    let lost = false;
    subscriber.on('close', () => {
      lost = true;
    });
    subscriber.on('ready', () => {
      if (!lost) return;
      lost = false;
      subscribe();
    });
    subscribe();
  }

  async listening(): Promise<void> {
    await this.subscribed?.catch(() => undefined);
  }

  async close(): Promise<void> {
    this.publisher?.disconnect();
    this.subscriber?.disconnect();
  }
}

function untilReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`Redis not ready (${redis.status})`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}

/** Without REDIS_URL: none (a revoke on another replica takes API_KEY_CACHE_SECONDS). */
export function createKeyRevocations(config: RedisConfig): KeyRevocations {
  const connect = redisConnector(config);
  if (!connect) return noKeyRevocations;
  return new RedisKeyRevocations(
    keyRevocationsChannel(config.REDIS_KEY_PREFIX),
    { publisher: () => connect('eventsPublisher'), subscriber: () => connect('keyRevocations') },
    Math.max(config.REDIS_EVENTS_TIMEOUT_MS, config.REDIS_CONNECT_TIMEOUT_MS),
  );
}

import type { ChainableCommander } from 'ioredis';

// Every write to module routing state is published, in the same round trip, on one channel, so the
// control workers' routing snapshots (db/routing-snapshot.ts) follow it without reading the hashes
// per selection. A message is [hash, field, value]: the value the field now holds (null: deleted),
// never a delta, so applying messages in order leaves a snapshot equal to the hashes whatever it
// missed before a full read (ADR 0041).

/** The routing state hashes, relative to REDIS_KEY_PREFIX. */
export const ROUTING_HASHES = {
  replicas: 'module-replicas',
  inFlight: 'module-inflight',
  circuits: 'module-circuits',
  performance: 'module-performance',
  /** The cached routing table; only its invalidation is published (the snapshot reads it again). */
  routing: 'routing',
} as const;

export type RoutingChange = [hash: string, field: string, value: string | null];

/** Channels are not prefixed by ioredis's keyPrefix: the prefix is added here. */
export const routingChangesChannel = (keyPrefix: string) => `${keyPrefix}routing-changes`;

export function encodeRoutingChange(hash: string, field: string, value: string | null): string {
  return JSON.stringify([hash, field, value]);
}

/** Null for a message this version does not understand (a newer writer): the periodic full read covers it. */
export function decodeRoutingChange(message: string): RoutingChange | null {
  try {
    const parsed: unknown = JSON.parse(message);
    if (!Array.isArray(parsed) || parsed.length !== 3) return null;
    const [hash, field, value] = parsed as unknown[];
    if (typeof hash !== 'string' || typeof field !== 'string') return null;
    if (value !== null && typeof value !== 'string') return null;
    return [hash, field, value];
  } catch {
    return null;
  }
}

/** Publishes what a write did, queued on the write's own MULTI so both happen or neither does. */
export interface RoutingChangeFeed {
  channel: string;
  add(multi: ChainableCommander, hash: string, field: string, value: string | null): ChainableCommander;
}

export function routingChangeFeed(channel: string): RoutingChangeFeed {
  return {
    channel,
    add: (multi, hash, field, value) => multi.publish(channel, encodeRoutingChange(hash, field, value)),
  };
}

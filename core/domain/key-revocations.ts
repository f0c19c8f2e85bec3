/**
 * API key revocations told to every API replica at once (ADR 0053), so none keeps accepting a revoked
 * key from its in-process key cache until API_KEY_CACHE_SECONDS pass. Best effort: a replica that
 * misses a message (Redis away) still refuses the key once its cached row expires.
 */
export interface KeyRevocations {
  /** Whether messages can reach other replicas at all (false without Redis: the TTL alone bounds a revoke). */
  readonly live: boolean;
  /** Tells every replica, this one included, to forget the key's cached row. Never throws: false when not sent. */
  publish(keyPrefix: string): Promise<boolean>;
  /**
   * Calls `revoked` with each revoked key's prefix, and `resync` whenever messages may have been
   * missed (the subscription came back after a loss): cached rows must then be checked again.
   */
  listen(handlers: { revoked(keyPrefix: string): void; resync(): void }): void;
  /** Resolves once the subscription is in place (tests; a process serves before that). */
  listening(): Promise<void>;
  close(): Promise<void>;
}

/** Without Redis: nothing to tell, nothing to hear; a revoke elsewhere takes the key cache's TTL. */
export const noKeyRevocations: KeyRevocations = {
  live: false,
  publish: async () => false,
  listen: () => undefined,
  listening: async () => undefined,
  close: async () => undefined,
};

export function encodeKeyRevocation(keyPrefix: string): string {
  return JSON.stringify({ revoked: keyPrefix });
}

/** The revoked key's prefix; null for a message this version does not understand (resync instead). */
export function decodeKeyRevocation(message: string): string | null {
  try {
    const parsed: unknown = JSON.parse(message);
    if (typeof parsed !== 'object' || parsed === null) return null;
    const revoked = (parsed as { revoked?: unknown }).revoked;
    return typeof revoked === 'string' && revoked.length > 0 ? revoked : null;
  } catch {
    return null;
  }
}

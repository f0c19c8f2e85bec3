// A sliding-window counter: the window's count is the current fixed window's count plus the
// previous window's, weighted by how much of it still overlaps the sliding window. O(1) memory per
// caller, smooth at window edges (no double burst as with a plain fixed window). ADR 0013.

export interface Decision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the current fixed window rolls over. */
  resetSeconds: number;
  /** When refused: seconds until one more request would be allowed. */
  retryAfterSeconds: number;
}

export interface WindowCounts {
  allowed: boolean;
  current: number;
  previous: number;
}

export interface WindowStore {
  /** Counts one request against `key` unless it would go over `limit`; `now` in ms. */
  hit(key: string, limit: number, windowMs: number, now: number): Promise<Decision>;
}

export const windowIndex = (now: number, windowMs: number) => Math.floor(now / windowMs);

/** The estimate before counting this request. */
export function estimate(previous: number, current: number, now: number, windowMs: number): number {
  const elapsed = (now - windowIndex(now, windowMs) * windowMs) / windowMs;
  return previous * (1 - elapsed) + current;
}

/** Turns the counts a store read (and maybe incremented) into the answer and its headers. */
export function decide(counts: WindowCounts, limit: number, now: number, windowMs: number): Decision {
  const start = windowIndex(now, windowMs) * windowMs;
  const elapsed = (now - start) / windowMs;
  const resetSeconds = Math.max(1, Math.ceil((start + windowMs - now) / 1000));
  const used = counts.previous * (1 - elapsed) + counts.current;
  if (counts.allowed) {
    return {
      allowed: true,
      limit,
      remaining: Math.max(0, Math.floor(limit - used)),
      resetSeconds,
      retryAfterSeconds: 0,
    };
  }
  // Refused: the previous window's weight decays as time passes; once this window ends, this
  // window's count becomes the decaying "previous" one.
  let waitMs: number;
  const room = limit - counts.current - 1;
  if (room >= 0 && counts.previous > 0) {
    waitMs = (1 - room / counts.previous - elapsed) * windowMs;
  } else {
    const nextRoom = limit - 1;
    const fraction = counts.current > 0 ? Math.max(0, 1 - nextRoom / counts.current) : 0;
    waitMs = start + windowMs - now + fraction * windowMs;
  }
  const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
  return { allowed: false, limit, remaining: 0, resetSeconds: retryAfterSeconds, retryAfterSeconds };
}

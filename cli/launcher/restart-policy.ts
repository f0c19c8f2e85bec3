/**
 * When `rpa start` restarts a child that died, and when it stops trying. Backoff doubles with each
 * crash still inside the window, so a child that crashed once long ago restarts after the first delay
 * again; more than `maxRestarts` crashes inside the window means the fault will not heal by itself.
 */
export interface RestartPolicy {
  maxRestarts: number;
  windowMs: number;
  firstDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  maxRestarts: 5,
  windowMs: 60_000,
  firstDelayMs: 1_000,
  maxDelayMs: 30_000,
};

export type RestartDecision =
  | { giveUp: false; restart: number; delayMs: number }
  | { giveUp: true; crashes: number };

/** `crashes`: the times (ms) this child died, the one just now included. */
export function afterCrash(crashes: readonly number[], now: number, policy: RestartPolicy): RestartDecision {
  const recent = crashes.filter((at) => now - at < policy.windowMs).length;
  if (recent > policy.maxRestarts) return { giveUp: true, crashes: recent };
  const delayMs = Math.min(policy.firstDelayMs * 2 ** (recent - 1), policy.maxDelayMs);
  return { giveUp: false, restart: recent, delayMs };
}

/** "restarting in 1s (restart 1 of 5 in 60s)". */
export function describeRestart(
  decision: { restart: number; delayMs: number },
  policy: RestartPolicy,
): string {
  return `restarting in ${seconds(decision.delayMs)} (restart ${decision.restart} of ${policy.maxRestarts} in ${seconds(policy.windowMs)})`;
}

export function seconds(ms: number): string {
  return `${ms / 1000}s`;
}

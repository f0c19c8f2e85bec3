// Performance of a module as exponentially weighted moving averages: recent outcomes count
// most, and the whole history fits in three numbers, so the state can live in a database row
// or a workflow without growing. Pure: the caller decides when an outcome happened.

export interface PerformanceStats {
  successEwma: number;
  latencyEwmaMs: number;
  samples: number;
}

// Success starts at 1 so that a new module is given the benefit of the doubt and is not
// starved of the traffic it needs to prove itself.
export const INITIAL_PERFORMANCE: PerformanceStats = { successEwma: 1, latencyEwmaMs: 0, samples: 0 };

function assertStats(stats: PerformanceStats): void {
  if (!(stats.successEwma >= 0 && stats.successEwma <= 1)) {
    throw new RangeError(`performance successEwma must be within [0, 1], got ${stats.successEwma}`);
  }
  if (!(Number.isFinite(stats.latencyEwmaMs) && stats.latencyEwmaMs >= 0)) {
    throw new RangeError(
      `performance latencyEwmaMs must be a finite number >= 0, got ${stats.latencyEwmaMs}`,
    );
  }
  if (!(Number.isInteger(stats.samples) && stats.samples >= 0)) {
    throw new RangeError(`performance samples must be an integer >= 0, got ${stats.samples}`);
  }
}

/** EWMA update with smoothing alpha in (0,1]; the first sample sets latency directly. */
export function recordOutcome(
  stats: PerformanceStats,
  outcome: { ok: boolean; latencyMs: number },
  alpha: number,
): PerformanceStats {
  if (!(alpha > 0 && alpha <= 1)) {
    throw new RangeError(`EWMA alpha must be within (0, 1], got ${alpha}`);
  }
  if (!(Number.isFinite(outcome.latencyMs) && outcome.latencyMs >= 0)) {
    throw new RangeError(`latencyMs must be a finite number >= 0, got ${outcome.latencyMs}`);
  }
  assertStats(stats);
  const success = outcome.ok ? 1 : 0;
  return {
    successEwma: alpha * success + (1 - alpha) * stats.successEwma,
    // Averaging the first latency with the placeholder 0 would report a slow module as fast
    // for its first several samples.
    latencyEwmaMs:
      stats.samples === 0 ? outcome.latencyMs : alpha * outcome.latencyMs + (1 - alpha) * stats.latencyEwmaMs,
    samples: stats.samples + 1,
  };
}

/** 0..1: 0.7·successEwma + 0.3·latencyScore, latencyScore = target/(target+latencyEwmaMs) (1 when no samples). Rounded to 4 decimals. */
export function performanceScore(stats: PerformanceStats, targetLatencyMs: number): number {
  if (!(Number.isFinite(targetLatencyMs) && targetLatencyMs > 0)) {
    throw new RangeError(`targetLatencyMs must be a finite number > 0, got ${targetLatencyMs}`);
  }
  assertStats(stats);
  // target/(target+latency) is 0.5 at the target and falls smoothly beyond it, so one slow
  // module is penalised without a cliff at an arbitrary cut-off.
  const latencyScore = stats.samples === 0 ? 1 : targetLatencyMs / (targetLatencyMs + stats.latencyEwmaMs);
  return Math.round((0.7 * stats.successEwma + 0.3 * latencyScore) * 10_000) / 10_000;
}

export type PerformanceTier = 'bronze' | 'silver' | 'gold' | 'platinum';

/** ≥0.9 platinum, ≥0.75 gold, ≥0.5 silver, else bronze. */
export function performanceTier(score: number): PerformanceTier {
  if (!(score >= 0 && score <= 1)) {
    throw new RangeError(`performance score must be within [0, 1], got ${score}`);
  }
  if (score >= 0.9) return 'platinum';
  if (score >= 0.75) return 'gold';
  if (score >= 0.5) return 'silver';
  return 'bronze';
}

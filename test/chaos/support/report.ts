import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

// Every chaos scenario ends with one result: what `npm run chaos` prints as a table and, with
// --full, writes to RELIABILITY.md. A scenario records it only after its invariants held, so a
// row in the table is a run whose assertions passed.

export type ChaosMode = 'short' | 'full';

/** `CHAOS_MODE=full` (set by `npm run chaos -- --full`) runs the long versions; CI runs short ones. */
export function chaosMode(): ChaosMode {
  return process.env.CHAOS_MODE === 'full' ? 'full' : 'short';
}

/** `short` in CI and by default, `full` with the flag. */
export function bySize<T>(sizes: { short: T; full: T }): T {
  return sizes[chaosMode()];
}

export interface ScenarioResult {
  /** Short name, the table's first column. */
  scenario: string;
  /** Robots the clients asked for (each once, however many retries it took). */
  robots: number;
  /** Faults injected: kills, outages, partitions, refused writes. */
  faults: number;
  /** Robots asked for that did not complete (or were not accounted for at their sinks). */
  lost: number;
  /** Robots, rows or side effects found more than once. */
  duplicated: number;
  /** From each fault's end (restart, heal) until the system completed work again, in ms. */
  recoveryMs: number[];
  /** What each sink counted, for the record: e.g. { smtp: 40, webhook: 40, calls: 40 }. */
  sinks?: Record<string, number>;
  /** One line on what the scenario did, as the table's note. */
  note?: string;
}

export interface RecordedResult extends ScenarioResult {
  mode: ChaosMode;
  durationMs: number;
  recordedAt: string;
}

/** Percentile by nearest rank (0 < p ≤ 100) of a non-empty list. */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? null;
}

/**
 * Writes the scenario's result where `npm run chaos` collects them (CHAOS_RESULTS_DIR); in a plain
 * `npm test` there is no collector and nothing is written.
 */
export function recordScenario(result: ScenarioResult, startedAt: number): void {
  const dir = process.env.CHAOS_RESULTS_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const recorded: RecordedResult = {
    ...result,
    mode: chaosMode(),
    durationMs: Date.now() - startedAt,
    recordedAt: new Date().toISOString(),
  };
  const file = path.join(dir, `${result.scenario.replace(/[^a-z0-9-]+/gi, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(recorded, null, 2)}\n`);
}

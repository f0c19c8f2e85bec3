import { CancellationScope, proxyActivities, setHandler } from '@temporalio/workflow';
import type { ControlActivities } from '../activities/types';
import {
  BULK_FAILURES_KEPT,
  type BulkOperationInput,
  type BulkOutcome,
  type BulkPage,
  type BulkPageArgs,
  type BulkProgress,
  type BulkState,
} from '../core/domain/bulk-operation.contract';
import { bulkProgressQuery } from './bulk-robots.definitions';

// One bulk action on the robots a filter matches (POST /v1/robots/bulk/{action}, ADR 0049). First
// the set is read and fixed (ids in pages), then the action is applied batch by batch by an
// activity that calls the single-robot controls. A cancel of this workflow stops it between
// batches: each batch runs to its end, so the counts say exactly what was done.

/** Distinct skip and failure reasons counted apart; the rest add up under "other reasons". */
const REASONS_KEPT = 50;

/** Ids per page while the set is read. */
const PAGE_SIZE = 500;

const reading = proxyActivities<ControlActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});
const acting = proxyActivities<ControlActivities>({
  startToCloseTimeout: '15 minutes',
  // Heartbeats after each robot; a retry resumes after the last robot it reported.
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});

export async function bulkRobotsWorkflow(input: BulkOperationInput): Promise<BulkProgress> {
  const { operationId, action } = input;
  const progress: BulkProgress = {
    operationId,
    action,
    ...(input.priority ? { priority: input.priority } : {}),
    state: 'matching',
    matched: 0,
    done: 0,
    skipped: 0,
    failed: 0,
    reasons: {},
    failures: [],
  };
  setHandler(bulkProgressQuery, () => progress);
  const root = CancellationScope.current();
  const shielded = <T>(call: () => Promise<T>) => CancellationScope.nonCancellable(call);

  const robotIds: string[] = [];
  const seen = new Set<string>();
  let after: string | null = null;
  do {
    const request: BulkPageArgs = { filter: input.filter, after, limit: PAGE_SIZE };
    const page: BulkPage = await shielded(() => reading.listBulkPage(request));
    for (const id of page.robotIds) {
      // A retried robot has several runs in Temporal's visibility: one robot, one action.
      if (seen.has(id) || robotIds.length >= input.maxRobots) continue;
      seen.add(id);
      robotIds.push(id);
    }
    progress.matched = robotIds.length;
    after = robotIds.length >= input.maxRobots ? null : page.next;
  } while (after !== null && !root.consideredCancelled);

  if (!root.consideredCancelled) progress.state = 'running';
  for (let at = 0; at < robotIds.length && !root.consideredCancelled; at += input.batchSize) {
    const batch = robotIds.slice(at, at + input.batchSize);
    const args = {
      operationId,
      action,
      ...(input.priority ? { priority: input.priority } : {}),
      robotIds: batch,
    };
    let outcomes: BulkOutcome[];
    try {
      outcomes = (await shielded(() => acting.applyBulkAction(args))).outcomes;
    } catch (err) {
      // The activity's retries are spent (e.g. Postgres away for minutes): the batch failed, the rest goes on.
      const reason = `batch failed: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`;
      outcomes = batch.map((robotId) => ({ robotId, result: 'failed' as const, reason }));
    }
    tally(progress, outcomes);
  }
  // The state turns final once the outcome is on the audit log: a reader seeing it sees the whole operation.
  const state: BulkState = root.consideredCancelled ? 'cancelled' : 'completed';
  const finished = {
    operationId,
    action,
    actor: input.actor,
    keyId: input.keyId,
    progress: { ...progress, state },
  };
  await shielded(() => reading.recordBulkFinished(finished));
  progress.state = state;
  return progress;
}

function tally(progress: BulkProgress, outcomes: BulkOutcome[]): void {
  for (const outcome of outcomes) {
    progress[outcome.result] += 1;
    if (outcome.result === 'done') continue;
    const given = outcome.reason ?? outcome.result;
    // Bounded: the progress lives in the workflow's state and every query answer.
    const known = given in progress.reasons || Object.keys(progress.reasons).length < REASONS_KEPT;
    const reason = known ? given : 'other reasons';
    progress.reasons[reason] = (progress.reasons[reason] ?? 0) + 1;
    if (outcome.result === 'failed' && progress.failures.length < BULK_FAILURES_KEPT)
      progress.failures.push(outcome);
  }
}

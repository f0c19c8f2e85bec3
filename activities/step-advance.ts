import type { CircuitState } from '../core/domain/load-balancer';
import type { NotificationEvent } from '../core/domain/notification-events';
import type { ProgressRecord } from './progress';
import type { ModuleChoice, SelectionRequest } from './selection';

export interface AdvanceDeps {
  recordProgress(
    record: ProgressRecord,
  ): Promise<{ circuit: CircuitState | null; notify?: NotificationEvent }>;
  selectModule(request: SelectionRequest): Promise<ModuleChoice>;
}

export interface AdvanceRequest {
  record: ProgressRecord;
  /** The next step's routing, when it runs on a module; absent before a workflow step or the end. */
  next?: SelectionRequest;
}

export interface AdvanceResult {
  circuit: CircuitState | null;
  notify?: NotificationEvent;
  choice?: ModuleChoice;
}

export function createStepAdvanceActivities({ recordProgress, selectModule }: AdvanceDeps) {
  return {
    /**
     * A step completed: its progress record and the next module step's routing in one local
     * activity, one marker and one round trip of the workflow task instead of two (ADR 0046). The
     * two are independent (the record is of the step that ended, the choice is for the next), so
     * they run side by side. Idempotent as each of them is: a retry writes the same record again
     * and chooses again.
     */
    async advanceRobot({ record, next }: AdvanceRequest): Promise<AdvanceResult> {
      const [recorded, choice] = await Promise.all([
        recordProgress(record),
        next ? selectModule(next) : undefined,
      ]);
      return { ...recorded, ...(choice ? { choice } : {}) };
    },
  };
}

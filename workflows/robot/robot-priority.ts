import { ApplicationFailure, setHandler, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import { FAILURE_TYPES } from '../../core/domain/failure-types';
import {
  isTerminal,
  ROBOT_PRIORITIES,
  type RobotPriority,
  type RobotProgress,
} from '../../core/domain/robot';
import { type ControlAnswer, PRIORITY_KEYS } from '../../core/domain/robot-workflow.contract';
import { RobotPriorityKey } from '../../core/domain/search-attributes';
import { reprioritizeUpdate } from './robot.definitions';

// An operator's new priority for a running robot (POST /v1/robots/{id}/reprioritize, and bulk):
// its remaining steps are dispatched with it, and the Web UI shows it. Registering the handler adds
// no command, so runs recorded before it replay unchanged; only an accepted update writes events.

function conflict(message: string): never {
  throw ApplicationFailure.nonRetryable(message, FAILURE_TYPES.robotStateConflict);
}

export class RobotPriorityControl {
  private key: number | undefined;

  constructor(private readonly progress: RobotProgress) {}

  install(): void {
    const { progress } = this;
    setHandler(
      reprioritizeUpdate,
      (priority: RobotPriority): ControlAnswer => {
        progress.priority = priority;
        this.key = PRIORITY_KEYS[priority];
        upsertSearchAttributes([{ key: RobotPriorityKey, value: priority }]);
        upsertMemo({ priority });
        return { status: progress.status, effect: `its remaining steps run at priority ${priority}` };
      },
      {
        validator: (priority: RobotPriority) => {
          if (!ROBOT_PRIORITIES.includes(priority))
            conflict(`priority must be one of ${ROBOT_PRIORITIES.join(', ')}`);
          if (isTerminal(progress.status)) conflict(`robot is ${progress.status}`);
          // The SLA watch raised it: a lower priority would let it miss its deadline.
          if (progress.sla && progress.sla.state !== 'on_track')
            conflict(`robot is past its SLA risk point; its priority stays ${progress.priority}`);
          if (progress.priority === priority) conflict(`robot is already at priority ${priority}`);
        },
      },
    );
  }

  /** The priority key the next steps are dispatched with; undefined: the run's own (from its start). */
  get priorityKey(): number | undefined {
    return this.key;
  }
}

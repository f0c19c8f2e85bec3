import {
  CancellationScope,
  isCancellation,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { RobotProgress, RobotStatus, StepProgress } from '../../core/domain/robot';
import type { StepDefinition } from '../../core/domain/robot-types';
import { PRIORITY_KEYS } from '../../core/domain/robot-workflow.contract';
import { RobotPriorityKey } from '../../core/domain/search-attributes';
import type { RobotSla } from '../../core/domain/sla';
import type { RobotControls, Verdict } from './robot-controls';

// A robot's deadline in its workflow (docs/sla.md): durable timers to the risk point and the
// deadline, beside the step loop, so pausing, parking or waiting for a person never stops them.
// Deterministic: workflow time and workflow APIs only.

/** Runs started before SLAs replay without them (and a robot without a deadline never asks). */
export const SLA_PATCH = 'robot-sla-v1';

type Recorder = (status: RobotStatus, extra: { slaEvent: 'at_risk' | 'missed' }) => Promise<unknown>;

async function sleepUntil(instant: string): Promise<void> {
  const ms = Date.parse(instant) - Date.now();
  if (ms > 0) await sleep(ms);
}

export class SlaWatch {
  private readonly scope = new CancellationScope();
  /** The deadline passed: a person must approve before the next step. */
  private reviewOwed = false;

  constructor(
    private readonly progress: RobotProgress & { sla: RobotSla },
    private readonly record: Recorder,
  ) {}

  /** Starts the timers in their own scope: `finish` cancels them, workflow cancellation too. */
  start(): void {
    upsertMemo({ sla: { ...this.progress.sla } });
    this.scope
      .run(() => this.watch())
      .catch((err: unknown) => {
        if (!isCancellation(err)) throw err;
      });
  }

  /** The priority steps are dispatched with from the risk point on (undefined: the run's own). */
  get priorityKey(): number | undefined {
    return this.progress.sla.state === 'on_track' ? undefined : PRIORITY_KEYS.critical;
  }

  private async watch(): Promise<void> {
    const { progress } = this;
    const sla = progress.sla;
    if (sla.state === 'on_track') {
      await sleepUntil(sla.riskAt);
      sla.state = 'at_risk';
      // The remaining steps overtake other robots' (Temporal task priority), and the Web UI shows it.
      progress.priority = 'critical';
      upsertSearchAttributes([{ key: RobotPriorityKey, value: 'critical' }]);
      upsertMemo({ priority: 'critical', sla: { ...sla } });
      await this.record(progress.status, { slaEvent: 'at_risk' });
    }
    if (sla.state === 'at_risk') {
      await sleepUntil(sla.deadline);
      sla.state = 'missed';
      this.reviewOwed = true;
      upsertMemo({ sla: { ...sla } });
      await this.record(progress.status, { slaEvent: 'missed' });
    }
  }

  /** A person's verdict on the robot (an approval step) after the deadline serves as the review. */
  reviewed(): void {
    if (this.progress.sla.state === 'missed') this.reviewOwed = false;
  }

  /**
   * Between steps: a robot past its deadline waits for a person, through the approval machinery
   * (listed by GET /v1/approvals with reason `sla-missed`; approve continues, reject fails).
   */
  async review(
    controls: RobotControls,
    next: StepDefinition,
    data: Record<string, unknown>,
    outputs: Record<string, Record<string, unknown>>,
    waits: { timeoutMs: number; escalationMs: number },
  ): Promise<Verdict | null> {
    if (!this.reviewOwed) return null;
    this.reviewOwed = false;
    const gate: StepDefinition = { ...next, kind: 'approval', params: {} };
    const state: StepProgress = { name: next.name, kind: 'approval', status: 'pending' };
    return controls.awaitApproval(gate, state, data, outputs, waits, 'sla-missed');
  }

  /** The robot ends: in time is `met`; the timers are cancelled either way. */
  finish(completed: boolean): void {
    const sla = this.progress.sla;
    if (completed && sla.state !== 'missed') {
      sla.state = 'met';
      upsertMemo({ sla: { ...sla } });
    }
    this.scope.cancel();
  }
}

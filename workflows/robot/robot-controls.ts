import { ApplicationFailure, condition, setHandler, upsertMemo } from '@temporalio/workflow';
import { parseDuration } from '../../core/domain/durations';
import { FAILURE_TYPES } from '../../core/domain/failure-types';
import {
  type ApprovalWait,
  isTerminal,
  type RobotProgress,
  type RobotStatus,
  type StepProgress,
  WAITING_FOR_PEOPLE,
} from '../../core/domain/robot';
import type { StepDefinition } from '../../core/domain/robot-types';
import type { ApprovalDecision, ControlAnswer } from '../../core/domain/robot-workflow.contract';
import { approveUpdate, pauseUpdate, rejectUpdate, resumeUpdate } from './robot.definitions';

// Operator controls of a running robot (pause/resume, parking, approvals): the workflow's state
// machine for them, kept apart from the step loop. Deterministic: workflow APIs only.

type Recorder = (status: RobotStatus, extra?: { error?: string | null }) => Promise<unknown>;

function conflict(message: string): never {
  throw ApplicationFailure.nonRetryable(message, FAILURE_TYPES.robotStateConflict);
}

function checkDecision(decision: unknown): void {
  if (decision === undefined || decision === null) return;
  if (typeof decision !== 'object' || Array.isArray(decision)) conflict('the decision must be an object');
  const { fields, comment } = decision as ApprovalDecision;
  if (fields !== undefined && (typeof fields !== 'object' || fields === null || Array.isArray(fields)))
    conflict('fields must be an object');
  if (comment !== undefined && typeof comment !== 'string') conflict('comment must be a string');
}

export interface Verdict extends ApprovalDecision {
  approved: boolean;
}

export class RobotControls {
  private pauseRequested = false;
  private resumeRequested = false;
  private verdict: Verdict | null = null;
  /**
   * Set while a step waits for a module, and while it is paused there (module-wait.ts): a pause then
   * takes effect at once, and a resume goes back to waiting.
   */
  waitingForModule = false;

  constructor(
    private readonly progress: RobotProgress,
    private readonly record: Recorder,
  ) {}

  /** Registers the update handlers; their validators refuse actions that do not fit the status. */
  install(): void {
    const { progress } = this;
    setHandler(
      pauseUpdate,
      (): ControlAnswer => {
        this.pauseRequested = true;
        progress.pauseRequested = true;
        const effect = this.waitingForModule
          ? 'pauses now: it was waiting for a module'
          : 'pauses before its next step';
        return { status: progress.status, effect };
      },
      {
        validator: () => {
          if (isTerminal(progress.status)) conflict(`robot is ${progress.status}`);
          if (progress.status === 'paused' || this.pauseRequested) conflict('robot is already paused');
          if (progress.status === 'parked') conflict('robot is parked; resume it or cancel it');
        },
      },
    );
    setHandler(
      resumeUpdate,
      (): ControlAnswer => {
        if (progress.status === 'paused' || progress.status === 'parked') {
          this.resumeRequested = true;
          const effect =
            progress.status === 'parked'
              ? 'retries the failed step'
              : this.waitingForModule
                ? 'waits for a module again, then runs its step'
                : 'continues with its next step';
          return { status: 'running', effect };
        }
        // A pause that had not taken effect yet is simply withdrawn.
        this.pauseRequested = false;
        progress.pauseRequested = undefined;
        return { status: progress.status, effect: 'keeps running; the pause was withdrawn' };
      },
      {
        validator: () => {
          const resumable =
            progress.status === 'paused' || progress.status === 'parked' || this.pauseRequested;
          if (!resumable)
            conflict(`robot is ${progress.status}; only a paused or parked robot can be resumed`);
        },
      },
    );
    const decide =
      (approved: boolean) =>
      (decision: ApprovalDecision | undefined): ControlAnswer => {
        this.verdict = { approved, ...(decision ?? {}) };
        return {
          status: approved ? 'running' : 'failed',
          effect: approved ? 'continues with the corrected data' : 'fails: rejected',
        };
      };
    const validateDecision = (decision: ApprovalDecision | undefined) => {
      if (!WAITING_FOR_PEOPLE.includes(progress.status) || this.verdict !== null)
        conflict(`robot is ${progress.status}, not waiting for approval`);
      checkDecision(decision);
    };
    setHandler(approveUpdate, decide(true), { validator: validateDecision });
    setHandler(rejectUpdate, decide(false), { validator: validateDecision });
  }

  /** A pause was asked for and has not taken effect yet. */
  get pausing(): boolean {
    return this.pauseRequested;
  }

  /** Between steps: holds a robot that was asked to pause until it is resumed. */
  async gate(): Promise<void> {
    if (!this.pauseRequested) return;
    await this.hold();
    await this.record('running');
  }

  /** Records the robot `paused` and waits for its resume; the caller records what it does next. */
  async hold(): Promise<void> {
    this.progress.reason = 'paused by an operator';
    await this.record('paused');
    await condition(() => this.resumeRequested);
    this.pauseRequested = false;
    this.resumeRequested = false;
    this.progress.pauseRequested = undefined;
    this.progress.reason = undefined;
  }

  /**
   * A step failed for good (its retries are spent, the module is healthy): keep the robot open as
   * `parked` until an operator resumes it (the step is then retried with the same input) or the park
   * timeout fails it.
   */
  async park(step: StepProgress, error: string, timeoutMs: number): Promise<void> {
    step.status = 'failed';
    step.error = error;
    this.progress.reason = `step ${step.name} failed: ${error}; parked until resumed`;
    // A pause asked for earlier is served by the park itself.
    this.pauseRequested = false;
    this.progress.pauseRequested = undefined;
    // The Web UI shows the memo: an operator sees there why the robot waits.
    upsertMemo({ parked: { step: step.name, error, since: new Date().toISOString() } });
    await this.record('parked', { error });
    const resumed = await condition(() => this.resumeRequested, timeoutMs);
    if (!resumed) {
      throw ApplicationFailure.nonRetryable(
        `parked ${Math.round(timeoutMs / 1000)} s without resume; step ${step.name} failed: ${error}`,
        FAILURE_TYPES.parkTimedOut,
      );
    }
    this.resumeRequested = false;
    upsertMemo({ parked: null }); // null removes the entry
    step.status = 'running';
    step.error = undefined;
    this.progress.reason = undefined;
    await this.record('running', { error: null });
  }

  /**
   * Waits for a person's verdict; when the step's timeout passes, escalates and waits the escalation
   * period, then fails the robot (`approval timed out`). Returns the approved decision; a rejection
   * fails the robot with the reviewer's comment.
   */
  async awaitApproval(
    step: StepDefinition,
    state: StepProgress,
    data: Record<string, unknown>,
    outputs: Record<string, Record<string, unknown>>,
    defaults: { timeoutMs: number; escalationMs: number },
    /** `sla-missed`: not an approval step but the review of a robot past its deadline (docs/sla.md). */
    reason?: ApprovalWait['reason'],
  ): Promise<Verdict & { escalated: boolean }> {
    const timeoutMs = parseDuration(step.params.timeout) ?? defaults.timeoutMs;
    const escalationMs = parseDuration(step.params.escalationTimeout) ?? defaults.escalationMs;
    const since = new Date();
    this.progress.approval = {
      step: step.name,
      since: since.toISOString(),
      deadline: new Date(since.getTime() + timeoutMs).toISOString(),
      escalated: false,
      data: { input: { ...data }, outputs: { ...outputs } },
      ...(reason ? { reason } : {}),
    };
    this.progress.reason =
      reason === 'sla-missed'
        ? `deadline missed; waiting for a person to approve before step ${step.name}`
        : `waiting for approval of step ${step.name}`;
    await this.record('awaiting_approval');
    let decided = await condition(() => this.verdict !== null, timeoutMs);
    if (!decided) {
      const now = new Date();
      state.escalatedAt = now.toISOString();
      this.progress.approval.escalated = true;
      this.progress.approval.deadline = new Date(now.getTime() + escalationMs).toISOString();
      this.progress.reason = `no decision on step ${step.name} within ${Math.round(timeoutMs / 1000)} s; escalated`;
      await this.record('escalated');
      decided = await condition(() => this.verdict !== null, escalationMs);
    }
    const escalated = this.progress.approval.escalated;
    this.progress.approval = undefined;
    const verdict = this.verdict;
    this.verdict = null;
    if (!decided || !verdict)
      throw ApplicationFailure.nonRetryable('approval timed out', FAILURE_TYPES.approvalTimedOut);
    if (!verdict.approved) {
      throw ApplicationFailure.nonRetryable(
        verdict.comment ? `rejected: ${verdict.comment}` : 'rejected',
        FAILURE_TYPES.approvalRejected,
      );
    }
    this.progress.reason = undefined;
    return { ...verdict, escalated };
  }
}

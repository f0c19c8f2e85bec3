import type { RobotProgress } from '../../core/domain/robot';
import { readStepDetails, stepDetailsOf } from '../../core/domain/step-details';

const progress: RobotProgress = {
  robotId: '6f1c1e9e-3b1a-4c55-9a55-0d5f3c1e2b7a',
  robotType: 'noop',
  status: 'awaiting_approval',
  priority: 'normal',
  moduleName: null,
  currentStep: 'review',
  stepsCompleted: 1,
  stepsTotal: 2,
  percent: 50,
  steps: [
    { name: 'first', kind: 'noop', status: 'completed' },
    { name: 'review', kind: 'approval', status: 'running' },
  ],
  retryCount: 0,
  sequence: 7,
  routing: [],
  approval: {
    step: 'review',
    since: '2026-01-01T00:00:00.000Z',
    deadline: '2026-01-02T00:00:00.000Z',
    escalated: false,
    data: { input: {}, outputs: { first: { x: 1 } } },
  },
  pauseRequested: true,
};

describe('robot_execute.step_details', () => {
  it('reads back what a run stored, through JSON as Postgres keeps it', () => {
    const stored = stepDetailsOf(progress, { first: { x: 1 } });
    expect(readStepDetails(JSON.parse(JSON.stringify(stored)))).toEqual({
      steps: progress.steps,
      reason: null,
      routing: [],
      sequence: 7,
      approval: progress.approval,
      pauseRequested: true,
      outputs: { first: { x: 1 } },
    });
  });

  it('stores only the steps whose output is a record', () => {
    expect(stepDetailsOf(progress, { first: { x: 1 }, odd: 3 }).outputs).toEqual({ first: { x: 1 } });
  });

  it.each([
    ['the column default', {}],
    ['a row without a value', null],
    ['parts of the wrong shape', { steps: 'x', routing: {}, sequence: '3', approval: [], outputs: 1 }],
  ])('reads %s as an empty run', (_name, stored) => {
    expect(readStepDetails(stored)).toEqual({ steps: [], reason: null, routing: [], sequence: null });
  });
});

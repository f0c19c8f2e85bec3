import { resumePoint } from '../../api/robot-control.service';
import { parseConfig } from '../../core/config';
import { parseDuration } from '../../core/domain/durations';
import { robotTypeDefinitionSchema } from '../../core/domain/robot-types';
import { robotWorkflowArgs } from '../../core/domain/robot-workflow.contract';
import { readStepDetails } from '../../core/domain/step-details';

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['15m', 900_000],
    ['24h', 86_400_000],
    ['7d', 604_800_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '7', '7 days', '-1s', '1.5h', 42])('%j is not a duration', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('configuration parses them, with defaults, and names a bad one', () => {
    expect(parseConfig({})).toMatchObject({
      ROBOT_PARK_TIMEOUT: 604_800_000,
      APPROVAL_TIMEOUT: 86_400_000,
      APPROVAL_ESCALATION_TIMEOUT: 86_400_000,
    });
    expect(parseConfig({ ROBOT_PARK_TIMEOUT: '2s' }).ROBOT_PARK_TIMEOUT).toBe(2000);
    expect(() => parseConfig({ ROBOT_PARK_TIMEOUT: 'soon' })).toThrow(/ROBOT_PARK_TIMEOUT: must look like/);
    expect(() => parseConfig({ APPROVAL_TIMEOUT: '10ms' })).toThrow(/APPROVAL_TIMEOUT: must be between/);
  });
});

describe('where a retry continues', () => {
  const step = (name: string, status: 'completed' | 'failed' | 'pending') => ({ name, kind: 'noop', status });

  it('at the first step that did not complete, with the outputs of the steps before it only', () => {
    const point = resumePoint(
      readStepDetails({
        steps: [step('a', 'completed'), step('b', 'failed'), step('c', 'pending')],
        outputs: { a: { x: 1 }, b: { partial: true } },
      }),
    );
    expect(point).toEqual({ stepIndex: 1, steps: [step('a', 'completed')], outputs: { a: { x: 1 } } });
  });

  it('from the start when nothing was recorded', () => {
    expect(resumePoint(readStepDetails({}))).toEqual({ stepIndex: 0, steps: [], outputs: {} });
  });
});

describe('a robot workflow’s arguments', () => {
  const config = parseConfig({});
  const definition = robotTypeDefinitionSchema.parse({
    name: 'noop',
    version: 1,
    description: 'one step',
    steps: [{ name: 'a', kind: 'noop' }],
  });
  const run = { config, robotId: 'r-1', definition, input: { x: 1 }, priority: 'high' as const };

  it('freeze the deployment’s timings and carry no resumption or SLA unless given', () => {
    expect(robotWorkflowArgs(run)).toEqual({
      robotId: 'r-1',
      definition,
      input: { x: 1 },
      priority: 'high',
      moduleWaitSeconds: config.MODULE_WAIT_SECONDS,
      stepPolicy: {
        pickupTimeoutSeconds: config.MODULE_PICKUP_TIMEOUT_SECONDS,
        heartbeatTimeoutSeconds: config.STEP_HEARTBEAT_TIMEOUT_SECONDS,
        maxFailoversPerStep: 5,
      },
      parkTimeoutMs: 604_800_000,
      approval: { timeoutMs: 86_400_000, escalationMs: 86_400_000 },
    });
    expect(robotWorkflowArgs({ ...run, sla: null })).not.toHaveProperty('sla');
  });

  it('carry a retry’s resume point and the stored SLA', () => {
    const resumeFrom = { stepIndex: 1, steps: [], outputs: {} };
    const sla = {
      deadline: '2026-01-02T00:00:00.000Z',
      riskAt: '2026-01-01T12:00:00.000Z',
      state: 'on_track' as const,
    };
    expect(robotWorkflowArgs({ ...run, resumeFrom, sla })).toMatchObject({ resumeFrom, sla });
  });
});

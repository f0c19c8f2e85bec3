import { createBasicStepActivities } from '../../activities/basic-steps';
import type { StepActivities } from '../../activities/types';
import type { StepInput } from '../../core/domain/step-activity.contract';

/**
 * The built-in step activities, with faults a test switches on and off per input tag and step, and a
 * log of which steps ran for which robot (to prove what a resume or retry runs again).
 */
export function faultySteps() {
  const base = createBasicStepActivities();
  const faults = new Map<string, string>();
  const calls = new Map<string, string[]>();
  const key = (tag: string, step: string) => `${tag}/${step}`;
  const noop = async (input: StepInput) => {
    const list = calls.get(input.robotId) ?? [];
    list.push(input.step.name);
    calls.set(input.robotId, list);
    const fault = faults.get(key(String(input.input.tag), input.step.name));
    if (fault) throw new Error(fault);
    return base.noop(input);
  };
  const activities: Partial<StepActivities> = { ...base, noop };
  return {
    activities,
    /** Makes `step` of robots whose input has this `tag` throw `message` on every attempt until fixed. */
    fail(tag: string, step: string, message: string) {
      faults.set(key(tag, step), message);
    },
    fix(tag: string, step: string) {
      faults.delete(key(tag, step));
    },
    /** The noop steps that ran for a robot, one entry per attempt. */
    calls(robotId: string): string[] {
      return calls.get(robotId) ?? [];
    },
  };
}

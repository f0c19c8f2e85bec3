import { createBasicStepActivities } from '../../activities/basic-steps';
import { createExtractActivities } from '../../activities/extract';
import { createOcrActivities } from '../../activities/ocr';
import { builtInRobotTypes, robotTypeDefinitionSchema, STEP_KINDS } from '../../core/robot-types';

describe('robot types', () => {
  it('every built-in type passes its own schema', () => {
    for (const type of builtInRobotTypes()) {
      expect(robotTypeDefinitionSchema.parse(type)).toEqual(type);
    }
  });

  it('every step kind is either a workflow timer or a module activity', () => {
    const activities = Object.keys({
      ...createBasicStepActivities(),
      // Building the factory does no I/O; its dependencies are used only when a step runs.
      ...createOcrActivities({} as Parameters<typeof createOcrActivities>[0]),
      ...createExtractActivities(),
    });
    for (const kind of STEP_KINDS) {
      expect(kind === 'delay' || activities.includes(kind)).toBe(true);
    }
  });

  it('rejects a definition with no steps or a bad step name', () => {
    expect(robotTypeDefinitionSchema.safeParse({ name: 'x', version: 1, steps: [] }).success).toBe(false);
    expect(
      robotTypeDefinitionSchema.safeParse({
        name: 'x',
        version: 1,
        steps: [{ name: 'Bad Name', kind: 'validate' }],
      }).success,
    ).toBe(false);
  });
});

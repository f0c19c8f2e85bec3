import { longestRetentionDays, retentionPolicy } from '../../core/domain/retention';
import { createBuiltInRobotTypes, robotTypeRegistrationSchema } from '../../core/domain/robot-types';

describe('retention policy', () => {
  it('takes each type’s retentionDays, the default for the others', () => {
    const policy = retentionPolicy(
      [{ name: 'short', retentionDays: 5 }, { name: 'long', retentionDays: 400 }, { name: 'plain' }],
      30,
    );
    expect(policy).toEqual({ defaultDays: 30, byType: { short: 5, long: 400 } });
    expect(longestRetentionDays(policy)).toBe(400);
  });

  it('is the default when no type keeps longer (the built-in types set none)', () => {
    expect(longestRetentionDays(retentionPolicy(createBuiltInRobotTypes().all, 30))).toBe(30);
    expect(longestRetentionDays(retentionPolicy([{ name: 'short', retentionDays: 5 }], 30))).toBe(30);
  });

  it('a registration accepts retentionDays from 1 to 3650 whole days only', () => {
    const body = (retentionDays: unknown) => ({
      name: 'kept',
      retentionDays,
      steps: [{ name: 'settle', kind: 'delay', params: { ms: 10 } }],
    });
    expect(robotTypeRegistrationSchema.safeParse(body(1)).success).toBe(true);
    expect(robotTypeRegistrationSchema.safeParse(body(3650)).success).toBe(true);
    for (const bad of [0, 3651, 2.5, '7', null]) {
      expect(robotTypeRegistrationSchema.safeParse(body(bad)).success).toBe(false);
    }
  });
});

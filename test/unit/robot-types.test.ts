import { createBasicStepActivities } from '../../activities/basic-steps';
import { createEmailStepActivities } from '../../activities/email-steps';
import { createExtractActivities } from '../../activities/extract';
import { createHttpRequestActivities } from '../../activities/http-request';
import { createOcrActivities } from '../../activities/ocr';
import { SsrfGuard } from '../../core/adapters/http/ssrf.guard';
import {
  createBuiltInRobotTypes,
  robotTypeDefinitionSchema,
  STEP_KINDS,
  WORKFLOW_STEP_KINDS,
} from '../../core/domain/robot-types';

describe('robot types', () => {
  it('every built-in type passes its own schema', () => {
    for (const type of createBuiltInRobotTypes().all) {
      expect(robotTypeDefinitionSchema.parse(type)).toEqual(type);
    }
  });

  it('every step kind is either run by the workflow (timer, approval) or a module activity', () => {
    const activities = Object.keys({
      ...createBasicStepActivities(),
      ...createEmailStepActivities({ transport: null, from: 'x@example.com', sentEmails: null }),
      // Building the factory does no I/O; its dependencies are used only when a step runs.
      ...createOcrActivities({} as Parameters<typeof createOcrActivities>[0]),
      ...createExtractActivities(),
      ...createHttpRequestActivities({ guard: new SsrfGuard([]) }),
    });
    for (const kind of STEP_KINDS) {
      expect(WORKFLOW_STEP_KINDS.includes(kind) !== activities.includes(kind)).toBe(true);
    }
  });

  it('refuses approval waits that are no duration, zero or over a year', () => {
    const approval = (timeout: unknown) =>
      robotTypeDefinitionSchema.safeParse({
        name: 'x',
        version: 1,
        steps: [{ name: 'review', kind: 'approval', params: { timeout } }],
      }).success;
    expect(approval('30m')).toBe(true);
    expect(approval('0s')).toBe(false);
    expect(approval('400d')).toBe(false);
    expect(approval(30)).toBe(false);
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

  it('takes custom kinds only in their dotted form, never a misspelt built-in one', () => {
    const kind = (value: string) =>
      robotTypeDefinitionSchema.safeParse({ name: 'x', version: 1, steps: [{ name: 's', kind: value }] })
        .success;
    expect(kind('ledger.post')).toBe(true);
    expect(kind('acme.crm-lookup.v2')).toBe(true);
    expect(kind('ledger')).toBe(false);
    expect(kind('validat')).toBe(false);
    expect(kind('Ledger.Post')).toBe(false);
    expect(kind('ledger.')).toBe(false);
    expect(kind('.post')).toBe(false);
  });
});

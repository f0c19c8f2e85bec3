import { buildOpenApiDocument } from '../../api/openapi';
import { createRobotBody } from '../../api/schemas';
import { robotTypeRegistrationSchema } from '../../core/domain/robot-types';
import { planSla, riskPoint } from '../../core/domain/sla';

const now = new Date('2026-11-25T12:00:00.000Z');
const at = (offsetMs: number) => new Date(now.getTime() + offsetMs).toISOString();

describe('risk point', () => {
  it('is the given share of the SLA before the deadline', () => {
    const deadline = new Date(now.getTime() + 4 * 3_600_000);
    // 20 % of 4 h = 48 min before the deadline.
    expect(riskPoint(now, deadline, 0.2).toISOString()).toBe(at(4 * 3_600_000 - 48 * 60_000));
    expect(riskPoint(now, deadline, 0.5).toISOString()).toBe(at(2 * 3_600_000));
  });

  it('never lies before the start, even for a deadline in the past', () => {
    expect(riskPoint(now, new Date(now.getTime() - 1000), 0.2).toISOString()).toBe(at(-1000));
  });

  it('rounds to whole milliseconds', () => {
    const deadline = new Date(now.getTime() + 1001);
    expect(riskPoint(now, deadline, 0.3).getTime() % 1).toBe(0);
    expect(riskPoint(now, deadline, 0.3).toISOString()).toBe(at(1001 - 300));
  });
});

describe('planning a robot SLA', () => {
  it('from an sla duration', () => {
    expect(planSla(now, { sla: '4h' }, undefined, 0.2)).toEqual({
      sla: { deadline: at(4 * 3_600_000), riskAt: at(4 * 3_600_000 - 48 * 60_000), state: 'on_track' },
    });
  });

  it('from an explicit deadline, in any offset', () => {
    const plan = planSla(now, { deadline: '2026-11-25T14:00:00+01:00' }, '1d', 0.25);
    // 1 h ahead (13:00 UTC); the type's default does not apply.
    expect(plan).toEqual({ sla: { deadline: at(3_600_000), riskAt: at(45 * 60_000), state: 'on_track' } });
  });

  it("from the robot type's default, or none at all", () => {
    expect(planSla(now, {}, '10s', 0.2)).toEqual({
      sla: { deadline: at(10_000), riskAt: at(8000), state: 'on_track' },
    });
    expect(planSla(now, {}, undefined, 0.2)).toEqual({ sla: null });
  });

  it.each([
    [{ deadline: at(-60_000) }, 'body.deadline', 'at least 1 s in the future'],
    [{ deadline: at(500) }, 'body.deadline', 'at least 1 s in the future'],
    [{ deadline: at(366 * 86_400_000) }, 'body.deadline', 'at most 365 days'],
    [{ deadline: 'not a date' }, 'body.deadline', 'ISO 8601'],
    [{ sla: '0s' }, 'body.sla', 'from 1s to 365d'],
    [{ sla: '999ms' }, 'body.sla', 'from 1s to 365d'],
    [{ sla: '366d' }, 'body.sla', 'from 1s to 365d'],
    [{ sla: 'soon' }, 'body.sla', 'from 1s to 365d'],
    [{ sla: '1h', deadline: at(7_200_000) }, 'body.sla', 'not both'],
  ])('refuses %j', (request, field, message) => {
    const plan = planSla(now, request, undefined, 0.2);
    expect(plan).toEqual({ problem: { field, message: expect.stringContaining(message) } });
  });
});

describe('request shapes', () => {
  it('createRobotBody takes deadline and sla and refuses malformed ones', () => {
    expect(createRobotBody.safeParse({ type: 'demo', sla: '4h' }).success).toBe(true);
    expect(createRobotBody.safeParse({ type: 'demo', deadline: '2027-01-01T00:00:00Z' }).success).toBe(true);
    for (const bad of [
      { sla: '4 hours' },
      { sla: 4 },
      { deadline: 'tomorrow' },
      { deadline: '2027-01-01' },
    ]) {
      expect(createRobotBody.safeParse({ type: 'demo', ...bad }).success).toBe(false);
    }
  });

  it('a robot type may declare a default sla, within bounds', () => {
    const type = { name: 'with-sla', steps: [{ name: 'a', kind: 'noop' }] };
    expect(robotTypeRegistrationSchema.parse({ ...type, sla: '4h' }).sla).toBe('4h');
    expect(robotTypeRegistrationSchema.parse(type).sla).toBeUndefined();
    for (const sla of ['0s', '400d', 'quick', '']) {
      expect(robotTypeRegistrationSchema.safeParse({ ...type, sla }).success).toBe(false);
    }
  });
});

describe('OpenAPI', () => {
  it("documents deadline and sla on creation and the robot's sla", () => {
    const document = buildOpenApiDocument('test') as unknown as {
      paths: Record<string, { post?: { requestBody: { content: Record<string, { schema: unknown }> } } }>;
      components: { schemas: { Robot: { properties: Record<string, unknown> } } };
    };
    const body = document.paths['/v1/robots']?.post?.requestBody.content['application/json']?.schema as {
      properties: Record<string, { format?: string; pattern?: string }>;
    };
    expect(body.properties.deadline?.format).toBe('date-time');
    expect(body.properties.sla?.pattern).toBeDefined();
    expect(document.components.schemas.Robot.properties.sla).toMatchObject({
      type: ['object', 'null'],
      properties: { state: { enum: ['on_track', 'at_risk', 'missed', 'met'] } },
    });
  });
});

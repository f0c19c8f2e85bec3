import express from 'express';
import request from 'supertest';
import { createBasicStepActivities } from '../../activities/basic-steps';
import { requestId } from '../../api/middleware/request-id';
import type { StepInput } from '../../core/domain/step-activity.contract';
import { withLogContext } from '../../core/observability/log-context';
import { createLogger } from '../../core/observability/logger';
import { startTestSystem, type TestSystem } from '../support/test-system';

let system: TestSystem;
const lines: Record<string, unknown>[] = [];
const destination = {
  write(line: string) {
    lines.push(JSON.parse(line) as Record<string, unknown>);
  },
};

beforeAll(async () => {
  system = await startTestSystem({ module: false });
});

afterAll(async () => {
  await system?.close();
});

describe('ids on every log line', () => {
  it('a step logging through any logger carries its robot id, workflow id, run id and activity', async () => {
    const logger = createLogger({ ...system.config, LOG_LEVEL: 'info' }, 'steps', destination);
    const basic = createBasicStepActivities();
    await system.startModule(
      { name: 'logged', robotTypes: ['demo'] },
      {
        ...basic,
        async validate(input: StepInput) {
          logger.info('validating an invoice');
          return basic.validate(input);
        },
      },
    );
    const created = await system.api.post('/v1/robots').send({ type: 'demo', input: { text: 'log me' } });
    expect(created.status).toBe(201);
    const robotId: string = created.body.robotId;
    const handle = system.temporal.workflow.getHandle(robotId);
    await handle.result();
    const line = lines.find((l) => l.msg === 'validating an invoice');
    expect(line).toMatchObject({ robotId, workflowId: robotId, activity: 'validate' });
    expect(line?.runId).toBe((await handle.describe()).runId);
  });

  it('a line written while serving a request carries its request id and robot id', async () => {
    const logger = createLogger({ ...system.config, LOG_LEVEL: 'info' }, 'api', destination);
    const app = express();
    app.use(requestId);
    app.get('/robots/:id', async (req, res) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      withLogContext({ robotId: req.params.id }, () => logger.info('reading a robot'));
      logger.info('after the read');
      res.json({ ok: true });
    });
    const res = await request(app).get('/robots/r-42').set('x-request-id', 'req-abc');
    expect(res.headers['x-request-id']).toBe('req-abc');
    expect(lines.find((l) => l.msg === 'reading a robot')).toMatchObject({
      requestId: 'req-abc',
      robotId: 'r-42',
    });
    expect(lines.find((l) => l.msg === 'after the read')).toMatchObject({ requestId: 'req-abc' });
    expect(lines.find((l) => l.msg === 'after the read')?.robotId).toBeUndefined();
  });
});

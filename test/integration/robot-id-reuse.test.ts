import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { createRobotServices, type RobotServices } from '../../api/robot-services';
import { ConflictError } from '../../core/domain/errors';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// A new robot row whose id Temporal already knows. A run started before the row belongs to an
// earlier robot (a caller-derived id, or a database restored behind Temporal): the new robot is
// refused and its row removed. A run started after the row is this robot's own (a concurrent
// repeat of its Idempotency-Key started it first): the row stays.

let system: TestSystem;
let services: RobotServices;

beforeAll(async () => {
  system = await startTestSystem();
  services = createRobotServices({
    config: system.config,
    database: system.database,
    temporal: system.temporal,
    cache: system.cache,
    logger: pino({ level: 'silent' }),
  });
});

afterAll(async () => {
  await system?.close();
});

const body = { type: 'demo', input: { text: 'an invoice for reuse' }, priority: 'normal' as const };

async function rowOf(robotId: string): Promise<number> {
  const { rows } = await system.sql.query('select 1 from robots where robot_id = $1', [robotId]);
  return rows.length;
}

describe('a new row whose robot id Temporal already ran', () => {
  it('is refused with 409 when the run is older than the row, and the row is removed', async () => {
    const created = await system.api.post('/v1/robots').send(body);
    expect(created.status).toBe(201);
    const robotId: string = created.body.robotId;
    await system.temporal.workflow.getHandle(robotId).result();
    // The database "restored" to before this robot: Temporal still has its run.
    await system.sql.query('delete from robots where robot_id = $1', [robotId]);

    const again = services.robots.create(body, undefined, null, robotId);
    await expect(again).rejects.toBeInstanceOf(ConflictError);
    await expect(again).rejects.toThrow(`robot id ${robotId} was already used by an earlier run`);
    expect(await rowOf(robotId)).toBe(0);
  });

  it('keeps the row when the run started after it (a concurrent repeat started it first)', async () => {
    const key = `race-${randomUUID()}`;
    // The repeat lands between this request's insert and its own start: it finds the row and
    // starts the workflow first, so this request's start answers "already started".
    const insert = services.robotsRepository.insertAudited.bind(services.robotsRepository);
    let raced = false;
    services.robotsRepository.insertAudited = async (robot, options) => {
      const inserted = await insert(robot, options);
      const { row } = inserted;
      if (row && !raced) {
        raced = true;
        const repeat = await services.robots.create(body, key, null);
        expect(repeat).toMatchObject({ created: false, robot: { robotId: row.robotId } });
      }
      return inserted;
    };
    let robotId: string;
    try {
      const { robot, created } = await services.robots.create(body, key, null);
      expect(created).toBe(true);
      robotId = robot.robotId;
    } finally {
      services.robotsRepository.insertAudited = insert;
    }
    expect(raced).toBe(true);
    expect(await rowOf(robotId)).toBe(1);
    await eventually(async () => {
      const res = await system.api.get(`/v1/robots/${robotId}`);
      return res.body.status === 'completed' ? true : undefined;
    }, 30_000);
  });
});

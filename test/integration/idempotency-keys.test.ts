import request from 'supertest';
import { runMaintenanceNow } from '../../workers/maintenance-workflows';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// Idempotency keys belong to the API key that used them (one caller's key never finds, or names,
// another caller's robot) and expire after IDEMPOTENCY_KEY_TTL_HOURS (ADR 0029).

let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem({ module: false });
});

afterAll(async () => {
  await system?.close();
});

async function makeKey(name: string): Promise<{ id: string; key: string }> {
  const res = await system.api.post('/v1/keys').send({ name, scopes: ['robots:write', 'robots:read'] });
  expect(res.status).toBe(201);
  return { id: res.body.id, key: res.body.key };
}

const post = (apiKey: string, idempotencyKey: string, body: object) =>
  request(system.url)
    .post('/v1/robots')
    .set('authorization', `Bearer ${apiKey}`)
    .set('idempotency-key', idempotencyKey)
    .send(body);

async function rowsWithKey(idempotencyKey: string): Promise<{ robot_id: string; key_id: string }[]> {
  const rows = await system.sql.query(
    'select robot_id, created_by_key_id as key_id from robots where idempotency_key = $1 order by created_at',
    [idempotencyKey],
  );
  return rows.rows;
}

describe('an Idempotency-Key is scoped to the API key that sent it', () => {
  it('two API keys with the same key and body make two robots, neither seeing the other', async () => {
    const [alice, bob] = [await makeKey('alice'), await makeKey('bob')];
    const key = `shared-${Date.now()}`;
    const body = { type: 'demo', input: { text: 'same order' } };
    const first = await post(alice.key, key, body);
    const second = await post(bob.key, key, body);
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body.robotId).not.toBe(first.body.robotId);
    expect(JSON.stringify(second.body)).not.toContain(first.body.robotId);
    expect(await rowsWithKey(key)).toEqual([
      { robot_id: first.body.robotId, key_id: alice.id },
      { robot_id: second.body.robotId, key_id: bob.id },
    ]);
  });

  it("another API key's key with a different body is a new robot, not a 409 naming the first", async () => {
    const [alice, bob] = [await makeKey('alice'), await makeKey('bob')];
    const key = `probe-${Date.now()}`;
    const first = await post(alice.key, key, { type: 'demo', input: { text: 'secret' } });
    const probe = await post(bob.key, key, { type: 'demo', input: { text: 'guess' } });
    expect(first.status).toBe(201);
    expect(probe.status).toBe(201);
    expect(JSON.stringify(probe.body)).not.toContain(first.body.robotId);
  });

  it('within one API key a repeat is the same robot, and another body is 409 naming it', async () => {
    const alice = await makeKey('alice');
    const key = `own-${Date.now()}`;
    const body = { type: 'demo', input: { text: 'mine' } };
    const first = await post(alice.key, key, body);
    const repeat = await post(alice.key, key, body);
    const other = await post(alice.key, key, { type: 'demo', input: { text: 'changed' } });
    expect(first.status).toBe(201);
    expect(repeat.status).toBe(200);
    expect(repeat.body.robotId).toBe(first.body.robotId);
    expect(other.status).toBe(409);
    expect(other.body).toMatchObject({ type: '/problems/conflict', robotId: first.body.robotId });
    expect(await rowsWithKey(key)).toHaveLength(1);
  });

  it('concurrent first uses from two API keys make exactly one robot each', async () => {
    const [alice, bob] = [await makeKey('alice'), await makeKey('bob')];
    const key = `race-${Date.now()}`;
    const body = { type: 'demo', input: { text: 'race' } };
    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, i) => post(i % 2 ? bob.key : alice.key, key, body)),
    );
    expect(responses.every((res) => res.status === 201 || res.status === 200)).toBe(true);
    expect(responses.filter((res) => res.status === 201)).toHaveLength(2);
    const rows = await rowsWithKey(key);
    expect(new Set(rows.map((row) => row.key_id))).toEqual(new Set([alice.id, bob.id]));
    expect(rows).toHaveLength(2);
  });
});

describe('an Idempotency-Key expires after IDEMPOTENCY_KEY_TTL_HOURS', () => {
  it('defaults to 24 hours', () => {
    expect(system.config.IDEMPOTENCY_KEY_TTL_HOURS).toBe(24);
  });

  it('a key first used more than the TTL ago makes a new robot; a younger one does not', async () => {
    const alice = await makeKey('alice');
    const key = `expiring-${Date.now()}`;
    const body = { type: 'demo', input: { text: 'daily' } };
    const first = await post(alice.key, key, body);
    expect(first.status).toBe(201);
    // 23 h old: still the same robot.
    await system.sql.query(`update robots set created_at = now() - interval '23 hours' where robot_id = $1`, [
      first.body.robotId,
    ]);
    const young = await post(alice.key, key, body);
    expect(young.status).toBe(200);
    expect(young.body.robotId).toBe(first.body.robotId);
    // 25 h old: the key is free again, even before the cleanup schedule has released it.
    await system.sql.query(`update robots set created_at = now() - interval '25 hours' where robot_id = $1`, [
      first.body.robotId,
    ]);
    const later = await post(alice.key, key, { type: 'demo', input: { text: 'another day' } });
    expect(later.status).toBe(201);
    expect(later.body.robotId).not.toBe(first.body.robotId);
    const again = await post(alice.key, key, { type: 'demo', input: { text: 'another day' } });
    expect(again.status).toBe(200);
    expect(again.body.robotId).toBe(later.body.robotId);
    // The first robot is still there; only its key was let go.
    const old = await system.sql.query('select idempotency_key from robots where robot_id = $1', [
      first.body.robotId,
    ]);
    expect(old.rows).toEqual([{ idempotency_key: null }]);
  });

  it('the cleanup schedule releases expired keys and keeps young ones and email intake keys', async () => {
    const alice = await makeKey('alice');
    const stamp = Date.now();
    const expired = await post(alice.key, `old-${stamp}`, { type: 'demo', input: { text: 'old' } });
    const young = await post(alice.key, `young-${stamp}`, { type: 'demo', input: { text: 'young' } });
    expect([expired.status, young.status]).toEqual([201, 201]);
    // An email intake robot (no API key): its key is derived from the message and never expires.
    const email = '6f1c2f7e-8d1a-5b3c-9e4f-0a1b2c3d4e5f';
    await system.sql.query(
      `insert into robots (robot_id, robot_type, status, input_data, priority, idempotency_key, created_at)
       values ($1, 'demo', 'completed', '{}', 'normal', $2, now() - interval '30 days')`,
      [email, `email:${email}`],
    );
    await system.sql.query(`update robots set created_at = now() - interval '25 hours' where robot_id = $1`, [
      expired.body.robotId,
    ]);

    await runMaintenanceNow(system.temporal, system.config, 'cleanup');
    await eventually(async () => {
      const rows = await system.sql.query('select idempotency_key from robots where robot_id = $1', [
        expired.body.robotId,
      ]);
      return rows.rows[0]?.idempotency_key === null ? true : undefined;
    });
    const kept = await system.sql.query(
      'select robot_id, idempotency_key from robots where robot_id = any($1::uuid[]) order by idempotency_key',
      [[young.body.robotId, email]],
    );
    expect(kept.rows).toEqual([
      { robot_id: email, idempotency_key: `email:${email}` },
      { robot_id: young.body.robotId, idempotency_key: `young-${stamp}` },
    ]);
  });
});

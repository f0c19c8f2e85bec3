import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { SentEmailsRepository } from '../../db/sent-emails.repository';
import { startTestSystem, type TestSystem } from '../support/test-system';

let system: TestSystem;
const robotA = randomUUID();
const robotB = randomUUID();

beforeAll(async () => {
  system = await startTestSystem({ module: false });
  const repository = new SentEmailsRepository(system.database.db);
  // Five sends a minute apart, oldest first: robot A's reply and follow-up, then B's three steps.
  const sends: [string, string, string][] = [
    [robotA, 'send-reply', '2026-01-01T10:00:00.000Z'],
    [robotA, 'follow-up', '2026-01-01T10:01:00.000Z'],
    [robotB, 'first', '2026-01-01T10:02:00.000Z'],
    [robotB, 'second', '2026-01-01T10:03:00.000Z'],
    [robotB, 'third', '2026-01-01T10:04:00.000Z'],
  ];
  for (const [robotId, step, at] of sends) {
    await repository.claim({
      robotId,
      step,
      messageId: `<${robotId}.${step}@rpa-orchestrator>`,
      recipients: ['client@example.com', 'copy@example.com'],
      subject: `Re: ${step}`,
      runId: null,
    });
    // B's last send has no known outcome: listed, as `sending`.
    if (step !== 'third') await repository.markSent(robotId, step);
    await system.sql.query('update sent_emails set sent_at = $3 where robot_id = $1 and step = $2', [
      robotId,
      step,
      at,
    ]);
  }
});

afterAll(async () => {
  await system?.close();
});

describe('GET /v1/emails', () => {
  it('lists sent emails newest first with recipients, subject, robot, step and message id', async () => {
    const res = await system.api.get('/v1/emails');
    expect(res.status).toBe(200);
    expect(res.body.items.map((item: { step: string }) => item.step)).toEqual([
      'third',
      'second',
      'first',
      'follow-up',
      'send-reply',
    ]);
    expect(res.body.items[4]).toEqual({
      robotId: robotA,
      step: 'send-reply',
      messageId: `<${robotA}.send-reply@rpa-orchestrator>`,
      recipients: ['client@example.com', 'copy@example.com'],
      subject: 'Re: send-reply',
      status: 'sent',
      sentAt: '2026-01-01T10:00:00.000Z',
    });
    expect(res.body.items[0]).toMatchObject({ robotId: robotB, step: 'third', status: 'sending' });
    expect(res.body.nextCursor).toBeNull();
  });

  it('pages with the cursor without gaps or repeats', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 5; page++) {
      const res = await system.api.get('/v1/emails').query({ limit: 2, ...(cursor ? { cursor } : {}) });
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((item: { step: string }) => item.step));
      cursor = res.body.nextCursor;
      if (!cursor) break;
    }
    expect(seen).toEqual(['third', 'second', 'first', 'follow-up', 'send-reply']);
  });

  it('filters by robot and by time range (both ends inclusive)', async () => {
    const byRobot = await system.api.get('/v1/emails').query({ robotId: robotA });
    expect(byRobot.body.items.map((item: { step: string }) => item.step)).toEqual([
      'follow-up',
      'send-reply',
    ]);
    const byTime = await system.api
      .get('/v1/emails')
      .query({ from: '2026-01-01T10:01:00Z', to: '2026-01-01T10:03:00+00:00' });
    expect(byTime.body.items.map((item: { step: string }) => item.step)).toEqual([
      'second',
      'first',
      'follow-up',
    ]);
  });

  it('refuses bad query values with a 400 problem naming the field', async () => {
    for (const [query, field] of [
      [{ robotId: 'robot-1' }, 'query.robotId'],
      [{ from: 'yesterday' }, 'query.from'],
      [{ limit: '0' }, 'query.limit'],
      [{ limit: '201' }, 'query.limit'],
      [{ cursor: 'nope' }, 'query.cursor'],
      [{ subject: 'x' }, 'query'],
    ] as const) {
      const res = await system.api.get('/v1/emails').query(query);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
      expect(JSON.stringify(res.body)).toContain(field);
    }
  });

  it('is readable with robots:read and closed without a key', async () => {
    const made = await system.api.post('/v1/keys').send({ name: 'outbox reader', scopes: ['robots:read'] });
    expect(made.status).toBe(201);
    const reader = await request(system.url)
      .get('/v1/emails')
      .set({ authorization: `Bearer ${made.body.key}` });
    expect(reader.status).toBe(200);
    expect(reader.body.items).toHaveLength(5);
    expect((await request(system.url).get('/v1/emails')).status).toBe(401);
  });
});

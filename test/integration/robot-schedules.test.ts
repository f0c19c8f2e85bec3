import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import request from 'supertest';
import { temporalScheduleId } from '../../core/domain/robot-schedule';
import { robotIdsOf, robotsMarked, scheduleOf, settled } from '../support/robot-schedules';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// Robot schedules (docs/schedules.md): Temporal Schedules whose firings make robots through the
// API's create path, one robot per nominal time, under an id derived from schedule and time.

let system: TestSystem;
const made: string[] = [];

beforeAll(async () => {
  system = await startTestSystem();
});

afterAll(async () => {
  for (const id of made) await system?.api.delete(`/v1/schedules/${id}`);
  await system?.close();
});

async function create(body: Record<string, unknown>) {
  const res = await system.api.post('/v1/schedules').send(body);
  if (res.status === 201) made.push(res.body.id);
  return res;
}

/** GET next; a 503 (Temporal slow to answer on a loaded machine) is asked again. */
async function nextTimes(id: string, count: number) {
  return eventually(async () => {
    const res = await system.api.get(`/v1/schedules/${id}/next?count=${count}`);
    if (res.status === 503) return undefined;
    return res;
  });
}

const nominalTimes = (schedule: { recentRuns: { nominalTime: string | null }[] }) =>
  schedule.recentRuns.map((run) => run.nominalTime ?? '');

describe('robot schedules', () => {
  it('fire: one robot per nominal time with the derived id, audited as the schedule; none while paused, again once resumed', async () => {
    const marker = 'schedule firing';
    const created = await create({
      id: 'every-two-seconds',
      description: 'firing test',
      type: 'demo',
      input: { text: marker },
      interval: { every: '2s' },
      overlap: 'allowAll',
      // Firings start up to 1 s late; their nominal times, and so their robot ids, stay whole seconds.
      jitter: '1s',
    });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe('/v1/schedules/every-two-seconds');
    expect(created.body).toMatchObject({
      id: 'every-two-seconds',
      temporalScheduleId: temporalScheduleId(system.config.CONTROL_TASK_QUEUE, 'every-two-seconds'),
      type: 'demo',
      interval: { every: '2s' },
      timeZone: 'UTC',
      overlap: 'allowAll',
      paused: false,
      lastError: null,
    });
    // Visible on the Schedules page of the Temporal Web UI, with a readable memo.
    const temporalId = created.body.temporalScheduleId;
    expect(created.body.links.temporalUi).toBe(
      `${system.config.TEMPORAL_UI_URL.replace(/\/$/, '')}/namespaces/${system.config.TEMPORAL_NAMESPACE}/schedules/${encodeURIComponent(temporalId)}`,
    );
    const inTemporal = await system.temporal.schedule.getHandle(temporalId).describe();
    expect(inTemporal.memo).toEqual({
      purpose: 'rpa-orchestrator robot schedule every-two-seconds',
      scheduleId: 'every-two-seconds',
    });

    await eventually(async () => {
      const schedule = await scheduleOf(system, 'every-two-seconds');
      return schedule.recentRuns.length >= 3 ? true : undefined;
    }, 30_000);
    const paused = await system.api
      .post('/v1/schedules/every-two-seconds/pause')
      .send({ note: 'maintenance window' });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ paused: true, note: 'maintenance window', lastError: null });
    expect(paused.body.nextRunTimes).toEqual([]);

    // Every firing made exactly its robot: ids derived from the nominal times, nothing else.
    const frozen = await settled(system, 'every-two-seconds');
    const times = nominalTimes(frozen);
    expect(new Set(times).size).toBe(times.length);
    const expectedIds = robotIdsOf(frozen, times);
    expect(frozen.recentRuns.map((run) => run.robotId)).toEqual(expectedIds);
    const robots = await eventually(async () => {
      const rows = await robotsMarked(system, marker);
      return rows.length === expectedIds.length ? rows : undefined;
    });
    expect(robots.map((row) => row.robot_id).sort()).toEqual([...expectedIds].sort());
    const audit = await system.sql.query(
      `select target from audit_log where actor = 'schedule:every-two-seconds' and action = 'robots.create'`,
    );
    expect(audit.rows.map((row) => row.target).sort()).toEqual([...expectedIds].sort());

    // Paused: no firing for several intervals.
    await sleep(5000);
    expect((await scheduleOf(system, 'every-two-seconds')).recentRuns.length).toBe(times.length);
    expect(await robotsMarked(system, marker)).toHaveLength(expectedIds.length);

    const resumed = await system.api.post('/v1/schedules/every-two-seconds/resume').send({});
    expect(resumed.body).toMatchObject({ paused: false, note: 'resumed through the API' });
    await eventually(async () =>
      (await robotsMarked(system, marker)).length > expectedIds.length ? true : undefined,
    );
    await system.api.post('/v1/schedules/every-two-seconds/pause').send({});

    // The change requests are on record under the key that made them.
    const actions = await eventually(async () => {
      const rows = await system.sql.query(
        `select action from audit_log where target = 'every-two-seconds' order by action`,
      );
      return rows.rows.length === 4 ? rows.rows : undefined;
    });
    expect(actions.map((row) => row.action)).toEqual([
      'schedules.create',
      'schedules.pause',
      'schedules.pause',
      'schedules.resume',
    ]);
  }, 90_000);

  it('trigger now makes one robot at once, even on a paused schedule', async () => {
    const marker = 'schedule trigger';
    const created = await create({
      id: 'yearly-trigger',
      type: 'demo',
      input: { text: marker },
      cron: '0 0 1 1 *',
      paused: true,
      note: 'only by hand',
    });
    expect(created.status).toBe(201);
    const triggered = await system.api.post('/v1/schedules/yearly-trigger/trigger').send({});
    expect(triggered.status).toBe(202);
    const schedule = await eventually(async () => {
      const current = await scheduleOf(system, 'yearly-trigger');
      return current.recentRuns.length === 1 ? current : undefined;
    });
    const [robotId] = robotIdsOf(schedule, nominalTimes(schedule));
    const robot = await eventually(async () => {
      const res = await system.api.get(`/v1/robots/${robotId}`);
      return res.status === 200 ? res.body : undefined;
    });
    expect(robot).toMatchObject({ type: 'demo', input: { text: marker } });
    expect(schedule).toMatchObject({ paused: true, note: 'only by hand' });
  }, 60_000);

  it('lists the next N run times of a cron in its time zone, and of an interval', async () => {
    expect(
      (
        await create({
          id: 'cron-paris',
          type: 'demo',
          input: { text: 'x' },
          cron: '30 9 * * 1-5',
          timeZone: 'Europe/Paris',
        })
      ).status,
    ).toBe(201);
    const next = await nextTimes('cron-paris', 12);
    expect(next.status).toBe(200);
    const times: string[] = next.body.items;
    expect(times).toHaveLength(12);
    for (const time of times) {
      const local = new Intl.DateTimeFormat('en-GB', {
        timeZone: 'Europe/Paris',
        weekday: 'short',
        hour: '2-digit',
        minute: '2-digit',
        hour12: false,
      }).format(new Date(time));
      expect(local).toMatch(/^(Mon|Tue|Wed|Thu|Fri) 09:30$/);
      expect(new Date(time).getTime()).toBeGreaterThan(Date.now());
    }
    expect([...times].sort()).toEqual(times);

    expect(
      (
        await create({
          id: 'every-ten-minutes',
          type: 'demo',
          input: { text: 'x' },
          interval: { every: '10m' },
          paused: true,
        })
      ).status,
    ).toBe(201);
    const interval = await nextTimes('every-ten-minutes', 30);
    const gaps = (interval.body.items as string[])
      .map((time) => new Date(time).getTime())
      .map((ms, i, all) => (i === 0 ? 600_000 : ms - (all[i - 1] ?? 0)));
    expect(gaps).toHaveLength(30);
    expect(new Set(gaps)).toEqual(new Set([600_000]));

    // Calendar rules: weekdays at 09:30 and 17:30 in Tokyo, numbers for days as the API takes them.
    expect(
      (
        await create({
          id: 'calendar-tokyo',
          type: 'demo',
          input: { text: 'x' },
          calendar: [{ hour: [9, 17], minute: 30, dayOfWeek: { start: 1, end: 5 } }],
          timeZone: 'Asia/Tokyo',
        })
      ).status,
    ).toBe(201);
    const calendar = await nextTimes('calendar-tokyo', 6);
    expect(calendar.body.items).toHaveLength(6);
    for (const time of calendar.body.items as string[]) {
      const local = new Intl.DateTimeFormat('en-GB', {
        timeZone: 'Asia/Tokyo',
        weekday: 'short',
        hour: '2-digit',
        minute: '2-digit',
        hour12: false,
      }).format(new Date(time));
      expect(local).toMatch(/^(Mon|Tue|Wed|Thu|Fri) (09|17):30$/);
    }

    const listed = await eventually(async () => {
      const res = await system.api.get('/v1/schedules');
      const ids = (res.body.items as { id: string }[]).map((item) => item.id);
      return ids.includes('cron-paris') && ids.includes('every-ten-minutes') ? ids : undefined;
    });
    // Robot schedules only: the maintenance schedules of this deployment are not among them.
    expect(listed.some((id) => id.includes('health-monitor') || id.includes('cleanup'))).toBe(false);
  });

  it('backfills a past range: one robot per nominal time; the same range again makes none', async () => {
    const marker = 'schedule backfill';
    expect(
      (
        await create({
          id: 'backfilled',
          type: 'demo',
          input: { text: marker },
          interval: { every: '2s' },
          paused: true,
        })
      ).status,
    ).toBe(201);
    // Five even seconds: the start is a firing time (counted, as Temporal fires it), the end is not.
    const base = Math.floor((Date.now() - 120_000) / 2000) * 2000;
    const range = { start: new Date(base).toISOString(), end: new Date(base + 9000).toISOString() };
    const expectedTimes = [0, 2, 4, 6, 8].map((s) => new Date(base + s * 1000).toISOString());

    const first = await system.api.post('/v1/schedules/backfilled/backfill').send(range);
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ id: 'backfilled', runs: 5 });
    const schedule = await eventually(async () => {
      const current = await scheduleOf(system, 'backfilled');
      return current.recentRuns.length === 5 && current.runningRuns === 0 ? current : undefined;
    });
    expect([...nominalTimes(schedule)].sort()).toEqual(expectedTimes);
    const expectedIds = robotIdsOf(schedule, expectedTimes).sort();
    const rows = await eventually(async () => {
      const current = await robotsMarked(system, marker);
      return current.length === 5 ? current : undefined;
    });
    expect(rows.map((row) => row.robot_id).sort()).toEqual(expectedIds);

    const again = await system.api.post('/v1/schedules/backfilled/backfill').send(range);
    expect(again.body).toEqual({ id: 'backfilled', runs: 5 });
    // Temporal takes a schedule's requests in order: once this later trigger has run, so has the
    // second backfill (its starts found the first backfill's runs, and no robot was made twice).
    expect((await system.api.post('/v1/schedules/backfilled/trigger').send({})).status).toBe(202);
    const triggered = await eventually(async () => {
      const current = await scheduleOf(system, 'backfilled');
      const extra = current.recentRuns.find((run) => !expectedTimes.includes(run.nominalTime ?? ''));
      return extra && current.runningRuns === 0 ? extra : undefined;
    });
    const after = await eventually(async () => {
      const current = await robotsMarked(system, marker);
      return current.length >= 6 ? current.map((row) => row.robot_id).sort() : undefined;
    });
    expect(after).toEqual([...expectedIds, triggered.robotId].sort());
  }, 60_000);

  it('PATCH changes the given fields only; a new interval replaces the cron', async () => {
    expect(
      (
        await create({
          id: 'patched',
          type: 'demo',
          input: { text: 'before' },
          cron: '0 6 * * *',
          priority: 'high',
        })
      ).status,
    ).toBe(201);
    const patched = await system.api
      .patch('/v1/schedules/patched')
      .send({ input: { text: 'after' }, interval: { every: '1h' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      input: { text: 'after' },
      interval: { every: '1h' },
      priority: 'high',
    });
    expect(patched.body.cron).toBeUndefined();
    const refused = await system.api.patch('/v1/schedules/patched').send({ input: {} });
    expect(refused.status).toBe(400);
    expect(refused.body.detail).toMatch(/inputSchema/);
    expect((await scheduleOf(system, 'patched')).input).toEqual({ text: 'after' });
  });
});

describe('robot schedule refusals: a clear 4xx, nothing created', () => {
  const valid = { type: 'demo', input: { text: 'x' }, cron: '*/5 * * * *' };
  it.each([
    ['a bad cron', { ...valid, cron: '61 * * * *' }, 400, /minute field: 61 is outside 0-59/],
    ['a cron of 6 fields', { ...valid, cron: '* * * * * *' }, 400, /5 fields/],
    [
      'an unknown time zone',
      { ...valid, timeZone: 'Mars/Olympus' },
      400,
      /unknown time zone "Mars\/Olympus"/,
    ],
    ['an unknown robot type', { ...valid, type: 'no-such-type' }, 400, /unknown robot type "no-such-type"/],
    ['input the type refuses', { ...valid, input: { other: 1 } }, 400, /inputSchema of robot type demo/],
    ['no when', { type: 'demo', input: { text: 'x' } }, 400, /give one of cron, interval or calendar/],
    ['two whens', { ...valid, interval: { every: '1m' } }, 400, /give only one/],
    ['a zero interval', { ...valid, cron: undefined, interval: { every: '0s' } }, 400, /from 1s/],
    ['a short catch-up window', { ...valid, catchupWindow: '1s' }, 400, /from 10s/],
    ['an unknown overlap policy', { ...valid, overlap: 'sometimes' }, 400, /body.overlap/],
    ['a calendar hour 24', { type: 'demo', input: { text: 'x' }, calendar: [{ hour: 24 }] }, 400, /calendar/],
    ['a bad id', { ...valid, id: 'Bad Id!' }, 400, /body.id/],
  ])('%s', async (_name, body, status, detail) => {
    const id = `refused-${Math.random().toString(16).slice(2, 8)}`;
    const res = await system.api.post('/v1/schedules').send({ id, ...body });
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    expect(res.body.detail).toMatch(detail);
    const temporalId = temporalScheduleId(system.config.CONTROL_TASK_QUEUE, id);
    await expect(system.temporal.schedule.getHandle(temporalId).describe()).rejects.toThrow(/not found/i);
  });

  it('an id taken is 409, an unknown schedule 404, a bad backfill 400/422, and writes need admin', async () => {
    expect((await create({ id: 'taken', ...valid })).status).toBe(201);
    const again = await system.api.post('/v1/schedules').send({ id: 'taken', ...valid, cron: '0 1 * * *' });
    expect(again.status).toBe(409);
    expect((await scheduleOf(system, 'taken')).cron).toBe('*/5 * * * *');

    for (const [method, path] of [
      ['get', '/v1/schedules/missing'],
      ['delete', '/v1/schedules/missing'],
      ['post', '/v1/schedules/missing/pause'],
      ['post', '/v1/schedules/missing/trigger'],
      ['get', '/v1/schedules/missing/next'],
    ] as const) {
      const res = await system.api[method](path);
      expect([path, res.status]).toEqual([path, 404]);
    }
    const backwards = await system.api
      .post('/v1/schedules/taken/backfill')
      .send({ start: '2026-01-02T00:00:00Z', end: '2026-01-01T00:00:00Z' });
    expect(backwards.status).toBe(400);
    expect(backwards.body.detail).toMatch(/after start/);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const ahead = await system.api
      .post('/v1/schedules/taken/backfill')
      .send({ start: new Date().toISOString(), end: future });
    expect(ahead.status).toBe(400);
    // Every 5 minutes for a month: over the limit of one backfill.
    const wide = await system.api
      .post('/v1/schedules/taken/backfill')
      .send({ start: '2026-01-01T00:00:00Z', end: '2026-02-01T00:00:00Z' });
    expect(wide.status).toBe(422);
    expect(wide.body.detail).toMatch(/more than 500 firings/);
    expect((await scheduleOf(system, 'taken')).recentRuns).toEqual([]);

    const reader = await system.security.keys.create({
      name: 'reader',
      scopes: ['robots:read'],
      expiresAt: null,
    });
    const writer = await system.security.keys.create({
      name: 'writer',
      scopes: ['robots:write'],
      expiresAt: null,
    });
    const read = await system.api.get('/v1/schedules/taken').set('Authorization', `Bearer ${reader.key}`);
    expect(read.status).toBe(200);
    const write = await system.api
      .post('/v1/schedules')
      .set('Authorization', `Bearer ${writer.key}`)
      .send({ id: 'not-admin', ...valid });
    expect(write.status).toBe(403);
    const deleted = await system.api
      .delete('/v1/schedules/taken')
      .set('Authorization', `Bearer ${writer.key}`);
    expect(deleted.status).toBe(403);
    expect((await scheduleOf(system, 'taken')).id).toBe('taken');
  });

  it('Temporal away: 503 within the RPC timeout, nothing half made', async () => {
    // Nothing listens on port 1: every call to this client fails as an unreachable server does.
    const connection = await Connection.lazy({ address: '127.0.0.1:1' });
    const temporal = new Client({ connection, namespace: system.config.TEMPORAL_NAMESPACE });
    try {
      const { app } = system.appFor({ temporal, config: { SCHEDULE_RPC_TIMEOUT_MS: 2000 } });
      const started = Date.now();
      const res = await request(app)
        .post('/v1/schedules')
        .set('Authorization', `Bearer ${system.adminKey}`)
        .send({ id: 'while-away', ...valid });
      expect(res.status).toBe(503);
      expect(res.body.detail).toMatch(/Temporal/);
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      await connection.close();
    }
    expect((await system.api.get('/v1/schedules/while-away')).status).toBe(404);
  }, 30_000);
});

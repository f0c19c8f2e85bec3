import http from 'node:http';
import request from 'supertest';
import { createStatusCache } from '../../core/adapters/redis/cache.builder';
import { NoRobotEvents } from '../../core/adapters/redis/robot-events.none';
import type { RobotView } from '../../core/domain/robot';
import { startTestSystem, type TestSystem } from '../support/test-system';

let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem();
});

afterAll(async () => {
  await system?.close();
});

interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

/** Reads an SSE stream until the server ends it (or the timeout), parsing events. */
function readStream(
  url: string,
  timeoutMs = 30_000,
): Promise<{ status: number; type: string; events: SseEvent[] }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { authorization: `Bearer ${system.adminKey}` } }, (res) => {
      let buffer = '';
      const events: SseEvent[] = [];
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let split = buffer.indexOf('\n\n');
        while (split >= 0) {
          const block = buffer.slice(0, split);
          buffer = buffer.slice(split + 2);
          const event: SseEvent = { data: '' };
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) event.id = line.slice(4);
            else if (line.startsWith('event: ')) event.event = line.slice(7);
            else if (line.startsWith('data: ')) event.data += line.slice(6);
          }
          if (event.event) events.push(event);
          split = buffer.indexOf('\n\n');
        }
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), events });
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error('stream did not end in time'));
    }, timeoutMs);
    req.on('error', reject);
  });
}

describe('GET /v1/robots/:id/events', () => {
  it('streams every update of a robot in order and ends when it finishes', async () => {
    const created = await system.api
      .post('/v1/robots')
      .send({ type: 'noop-pipeline', input: { holdMs: 300 } });
    const stream = await readStream(`${system.url}/v1/robots/${created.body.robotId}/events`);
    expect(stream.status).toBe(200);
    expect(stream.type).toMatch(/^text\/event-stream/);

    const updates = stream.events.filter((event) => event.event === 'robot');
    const robots = updates.map((event) => JSON.parse(event.data) as RobotView);
    expect(stream.events.at(-1)?.event).toBe('end');
    expect(robots.at(-1)).toMatchObject({ status: 'completed', progress: { percent: 100 } });
    // After the first (the state when the stream opened), no update is missing or repeated.
    const sequences = robots.map((robot) => robot.progress?.sequence ?? 0);
    const first = sequences[0] ?? 0;
    expect(sequences).toEqual(Array.from({ length: sequences.length }, (_, i) => first + i));
    expect(updates.map((event) => Number(event.id))).toEqual(sequences);
    // Three steps held 300 ms each: the stream saw them one by one, not only the end.
    expect(robots.filter((robot) => robot.status === 'running').length).toBeGreaterThanOrEqual(2);
  });

  it('a finished robot gets its final state and the end at once', async () => {
    const created = await system.api.post('/v1/robots').send({ type: 'demo', input: { text: 'done' } });
    await system.temporal.workflow.getHandle(created.body.robotId).result();
    const stream = await readStream(`${system.url}/v1/robots/${created.body.robotId}/events`, 5000);
    expect(stream.events.map((event) => event.event)).toEqual(['robot', 'end']);
  });

  it('without Redis (embedded mode) the stream polls Postgres and still ends', async () => {
    const { app } = system.appFor({
      cache: createStatusCache({ ...system.config, REDIS_URL: undefined }),
      events: new NoRobotEvents(),
    });
    const server = await new Promise<http.Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    try {
      const address = server.address();
      const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      const created = await request(url)
        .post('/v1/robots')
        .set('Authorization', `Bearer ${system.adminKey}`)
        .send({ type: 'noop-pipeline', input: { holdMs: 1200 } });
      const stream = await readStream(`${url}/v1/robots/${created.body.robotId}/events`);
      const robots = stream.events
        .filter((event) => event.event === 'robot')
        .map((event) => JSON.parse(event.data));
      expect(stream.events.at(-1)?.event).toBe('end');
      expect(robots.at(-1)).toMatchObject({ status: 'completed' });
      const sequences = robots.map((robot: RobotView) => robot.progress?.sequence ?? 0);
      expect([...sequences].sort((a, b) => a - b)).toEqual(sequences);
      expect(new Set(sequences).size).toBe(sequences.length);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('an unknown robot is a 404 problem, not a stream', async () => {
    const res = await system.api.get('/v1/robots/00000000-0000-4000-8000-000000000000/events');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
  });
});

// The status bench's baseline, a process of its own: `node:http` answering `GET /v1/robots/:id` with
// the one Redis GET that the API's cache hit makes (the key is BASELINE_KEY_PREFIX + the id: the
// status cache's key of that robot), the cached JSON written back as is. Reports its port to the
// parent over IPC and exits when the parent is gone.
import http from 'node:http';
import Redis from 'ioredis';
import { serveBaseline } from './serve-baseline';

const prefix = process.env.BASELINE_KEY_PREFIX ?? '';
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });

const server = http.createServer((req, res) => {
  const id = /^\/v1\/robots\/([^/?]+)$/.exec(req.url ?? '')?.[1];
  if (req.method !== 'GET' || !id) {
    res.writeHead(404).end();
    return;
  }
  redis.get(`${prefix}${id}`).then(
    (json) => {
      if (json === null) res.writeHead(404).end();
      else res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(json);
    },
    () => res.writeHead(500).end(),
  );
});

serveBaseline(server, () => redis.disconnect());

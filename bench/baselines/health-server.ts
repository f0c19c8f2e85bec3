// The health bench's baseline, a process of its own: what a health endpoint cannot avoid, a constant
// JSON over `node:http`. Reports its port to the parent over IPC and exits when the parent is gone.
import http from 'node:http';
import { serveBaseline } from './serve-baseline';

const body = JSON.stringify({ status: 'ok' });

const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(body);
});

serveBaseline(server);

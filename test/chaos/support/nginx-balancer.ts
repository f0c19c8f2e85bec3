import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { missingMessage } from '../../support/system-deps';
import { freePort } from './free-port';

// Debian's nginx in front of the API processes, as in a deployment (README "Scaling out"): one
// loopback port, round-robin over the APIs, a request whose API refuses the connection goes to the
// next one (nginx passes a POST on only when nothing of it reached the API). Runs in the foreground
// with a prefix, pid file, logs and temp paths of its own, so no root and no /etc/nginx is needed.

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((file) => existsSync(file));

export interface NginxBalancer {
  url: string;
  pid: number | undefined;
  close(): Promise<void>;
}

export async function startNginxBalancer(dir: string, upstreams: string[]): Promise<NginxBalancer> {
  if (!NGINX) throw new Error(missingMessage('nginx'));
  const prefix = path.join(dir, 'nginx');
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'])
    mkdirSync(path.join(prefix, 'tmp', sub), { recursive: true });
  const port = await freePort();
  const conf = path.join(prefix, 'nginx.conf');
  const servers = upstreams
    .map((url) => `    server ${new URL(url).host} max_fails=1 fail_timeout=5s;`)
    .join('\n');
  writeFileSync(
    conf,
    [
      // As root, workers would otherwise switch to `nobody`, who may not write the temp paths here.
      process.getuid?.() === 0 ? 'user root;' : '',
      'worker_processes 1;',
      'daemon off;',
      `pid ${path.join(prefix, 'nginx.pid')};`,
      `error_log ${path.join(prefix, 'error.log')} warn;`,
      'events { worker_connections 512; }',
      'http {',
      '  access_log off;',
      ...['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
        (sub) => `  ${sub === 'body' ? 'client_body' : sub}_temp_path ${path.join(prefix, 'tmp', sub)};`,
      ),
      '  upstream api {',
      servers,
      '    keepalive 16;',
      '  }',
      '  server {',
      `    listen 127.0.0.1:${port};`,
      '    location / {',
      '      proxy_pass http://api;',
      '      proxy_http_version 1.1;',
      '      proxy_set_header Connection "";',
      '      proxy_next_upstream error timeout;',
      '      proxy_connect_timeout 2s;',
      '      proxy_read_timeout 30s;',
      '    }',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(NGINX, ['-p', prefix, '-e', path.join(prefix, 'error.log'), '-c', conf], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  const close = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM'); // nginx's fast shutdown
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${stderr}`);
    const answered = await fetch(`${url}/health/live`, { signal: AbortSignal.timeout(2000) }).then(
      () => true,
      () => false,
    );
    if (answered) break;
    if (Date.now() > deadline) {
      await close();
      throw new Error(`nginx did not answer on ${url}: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, pid: child.pid, close };
}

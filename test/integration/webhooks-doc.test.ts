import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { newWebhookSecret, webhookHeaders } from '../../core/adapters/crypto/standard-webhooks';
import { startTestSystem, type TestSystem } from '../support/test-system';

// docs/webhooks.md as a new user would follow it: its trigger-creating curl and its signing shell
// block (bash + openssl + curl) run as they are written, with the secret and URL this system gave.

const doc = readFileSync(path.join(__dirname, '..', '..', 'docs', 'webhooks.md'), 'utf8');

/** The fenced block that follows `marker` in the doc. */
function blockAfter(marker: string, fence: string): string {
  const at = doc.indexOf(marker);
  if (at < 0) throw new Error(`docs/webhooks.md has no ${marker}`);
  const start = doc.indexOf(`\`\`\`${fence}\n`, at);
  const end = doc.indexOf('\n```', start + 1);
  if (start < 0 || end < 0) throw new Error(`no \`\`\`${fence} block after ${marker}`);
  return doc.slice(start + fence.length + 4, end);
}

/** Runs a script in bash; async, since the API it calls is served by this very process. */
function bash(script: string, env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
      env: { ...process.env, ...env },
      timeout: 30_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`bash exited ${code}: ${stderr}`));
    });
  });
}

let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem({ env: { RATE_LIMIT_PER_IP: '10000' } });
}, 60_000);

afterAll(async () => {
  await system?.close();
});

it('the shell snippet of docs/webhooks.md starts one robot, and its replay no second', async () => {
  const host = new URL(system.url).host;
  const create = blockAfter('## Inbound: triggers', 'sh');
  const made = JSON.parse(
    await bash(create.replaceAll('localhost:3000', host), { RPA_API_KEY: system.adminKey }),
  );
  expect(made).toMatchObject({ name: 'new-order', robotType: 'demo' });
  const secret: string = made.secret;

  const snippet = blockAfter('<!-- tested:', 'bash');
  const lines = snippet.split('\n');
  expect(lines.filter((line) => /^(SECRET|HOOK_URL)=/.test(line))).toHaveLength(2);
  // The user's two values; every other line runs as the doc has it.
  const filled = lines
    .map((line) => (line.startsWith('SECRET=') ? `SECRET='${secret}'` : line))
    .map((line) => (line.startsWith('HOOK_URL=') ? `HOOK_URL='${system.url}/hooks/new-order'` : line))
    .join('\n');
  // "Run the curl command again": the doc's own curl lines, with the same variables.
  const curl = snippet.slice(snippet.indexOf('\ncurl ') + 1);
  const before = (await system.sql.query('select count(*)::int as n from robots')).rows[0].n;

  const [first, replay] = (await bash(`${filled}\necho\n${curl}\necho`))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  expect(first).toMatchObject({ trigger: 'new-order', robotId: expect.any(String) });
  expect(replay).toEqual(first);

  const robots = await system.sql.query(
    "select robot_id, input_data from robots where robot_id = $1 or idempotency_key like 'hook:%'",
    [first.robotId],
  );
  expect(robots.rows).toEqual([{ robot_id: first.robotId, input_data: { text: 'Order 42 from Ada' } }]);
  expect((await system.sql.query('select count(*)::int as n from robots')).rows[0].n).toBe(before + 1);
  const view = await system.api.get(`/v1/robots/${first.robotId}`);
  expect(view.body).toMatchObject({ type: 'demo', input: { text: 'Order 42 from Ada' } });
}, 90_000);

it('the verification snippet of docs/webhooks.md accepts our signature and refuses a changed one', () => {
  const source = blockAfter('## Outbound: notification subscriptions', 'ts');
  const { outputText } = ts.transpileModule(`${source}\nexports.verify = verify;`, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
  });
  const exported: { verify?: (secret: string, headers: Record<string, string>, body: string) => boolean } =
    {};
  new Function('require', 'exports', outputText)(require, exported);
  const verify = exported.verify;
  if (!verify) throw new Error('the snippet defines no verify function');
  const secret = newWebhookSecret();
  const body = JSON.stringify({ id: 'd1', event: 'robot.completed', data: { robotId: 'r1' } });
  const headers = webhookHeaders(secret, 'd1', Math.floor(Date.now() / 1000), body);
  expect(verify(secret, headers, body)).toBe(true);
  expect(verify(secret, headers, `${body} `)).toBe(false);
  expect(verify(newWebhookSecret(), headers, body)).toBe(false);
  const old = webhookHeaders(secret, 'd1', Math.floor(Date.now() / 1000) - 600, body);
  expect(verify(secret, old, body)).toBe(false);
});

import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { newKeyEntry } from '../../core/adapters/crypto/secret-box';
import { startTestSystem, type TestSystem } from '../support/test-system';

// The CLI's commands that change the database directly (`rpa keys`, `rpa secrets rotate`) are in
// the audit log as the API's same actions are, with the OS account and host that ran them (ADR 0033).

let system: TestSystem;
const rpa = path.join(__dirname, '..', '..', 'bin', 'rpa');
const actor = `cli:${os.userInfo().username}@${os.hostname()}`;

beforeAll(async () => {
  system = await startTestSystem({ module: false });
});

afterAll(async () => {
  await system?.close();
});

async function run(args: string[], env: Record<string, string> = {}): Promise<string> {
  const result = await promisify(execFile)(process.execPath, [rpa, ...args], {
    env: { ...process.env, DATABASE_URL: system.config.DATABASE_URL ?? '', LOG_LEVEL: 'silent', ...env },
  });
  return result.stdout;
}

async function auditRows(action: string) {
  const rows = await system.sql.query(
    'select actor, key_id, target, outcome, status, ip, request_id from audit_log where action = $1 order by at, id',
    [action],
  );
  return rows.rows;
}

const byCli = { actor, key_id: null, status: null, ip: null, request_id: null };

describe('rpa keys', () => {
  it('create and revoke are recorded with the CLI actor; revoking no such key as a failure', async () => {
    const made = JSON.parse(await run(['keys', 'create', '--name', 'audited', '--scopes', 'robots:read']));
    expect(await auditRows('keys.create')).toEqual([{ ...byCli, target: made.id, outcome: 'success' }]);

    await run(['keys', 'revoke', made.id]);
    const missing = '00000000-0000-4000-8000-000000000000';
    await expect(run(['keys', 'revoke', missing])).rejects.toMatchObject({ code: 2 });
    expect(await auditRows('keys.delete')).toEqual([
      { ...byCli, target: made.id, outcome: 'success' },
      { ...byCli, target: missing, outcome: 'failure' },
    ]);

    // Reads change nothing and leave no row.
    await run(['keys', 'list', '--json']);
    expect(
      (await system.sql.query('select count(*)::int as n from audit_log where actor = $1', [actor])).rows[0]
        .n,
    ).toBe(3);
  }, 60_000);
});

describe('rpa secrets rotate', () => {
  it('is recorded as secrets.rotate with the CLI actor', async () => {
    await system.security.secrets.put('audited-token', 'value');
    const keys = `${newKeyEntry('cli')},${system.config.SECRETS_KEYS}`;
    expect(JSON.parse(await run(['secrets', 'rotate'], { SECRETS_KEYS: keys }))).toEqual({ reEncrypted: 1 });
    expect(await auditRows('secrets.rotate')).toEqual([{ ...byCli, target: null, outcome: 'success' }]);
  }, 60_000);
});

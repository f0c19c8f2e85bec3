import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client as PgClient } from 'pg';
import { ApiKeysRepository } from '../../db/api-keys.repository';
import { AuditRepository, auditedChange } from '../../db/audit.repository';
import { createDatabase, type DatabaseHandle } from '../../db/client';
import { migratePostgres } from '../../db/migrate';
import { RobotsRepository } from '../../db/robots.repository';
import { adminQuery, databaseUrl, TEMPLATE_DATABASE } from '../support/test-env';

// Migrations as the owner (DATABASE_MIGRATION_URL), the app as a restricted role (DATABASE_URL):
// the app's role does its work but cannot drop, disable or replace the audit log's triggers, nor
// rewrite its rows (ADR 0033). Roles are cluster-wide: this one is named for this run and dropped.

const suffix = randomBytes(4).toString('hex');
const dbName = `rpa_test_role_${suffix}`;
const role = `rpa_test_app_${suffix}`;
const ownerUrl = databaseUrl(dbName);
const appUrl = (() => {
  const url = new URL(ownerUrl);
  url.username = role;
  url.password = '';
  return url.toString();
})();
const rpa = path.join(__dirname, '..', '..', 'bin', 'rpa');

let asApp: PgClient;
let database: DatabaseHandle;

beforeAll(async () => {
  await adminQuery(`create database ${dbName} template ${TEMPLATE_DATABASE}`);
  await adminQuery(`create role ${role} login`);
  // The real command: migrations as the owner, then the grants to DATABASE_URL's role.
  const migrated = await promisify(execFile)(process.execPath, [rpa, 'migrate'], {
    env: { ...process.env, DATABASE_URL: appUrl, DATABASE_MIGRATION_URL: ownerUrl, LOG_LEVEL: 'silent' },
  });
  expect(migrated.stdout).toContain(`role ${role} (DATABASE_URL) granted`);
  asApp = new PgClient({ connectionString: appUrl });
  await asApp.connect();
  database = await createDatabase({
    DATABASE_URL: appUrl,
    DATABASE_POOL_SIZE: 2,
    DATABASE_READ_POOL_SIZE: 1,
    PGLITE_DIR: '',
  });
}, 60_000);

afterAll(async () => {
  await asApp?.end();
  await database?.close();
  await adminQuery(`drop database if exists ${dbName} with (force)`);
  await adminQuery(`drop role if exists ${role}`);
});

describe('the app role cannot undo the audit log', () => {
  it.each([
    ['drop the trigger', 'drop trigger audit_log_no_update_or_delete on audit_log', /must be owner/],
    [
      'disable a trigger',
      'alter table audit_log disable trigger audit_log_no_update_or_delete',
      /must be owner/,
    ],
    ['disable all triggers', 'alter table audit_log disable trigger all', /must be owner/],
    [
      'replace the trigger function',
      'create or replace function audit_log_append_only() returns trigger as $$ begin return null; end $$ language plpgsql',
      /permission denied for schema public/,
    ],
    ['drop the table', 'drop table audit_log', /must be owner/],
    [
      'add a trigger',
      'create trigger t before insert on audit_log for each row execute function audit_log_append_only()',
      /permission denied for table audit_log/,
    ],
    ['delete rows', 'delete from audit_log', /permission denied/],
    ['update rows', "update audit_log set outcome = 'success'", /permission denied/],
    ['truncate', 'truncate audit_log', /permission denied/],
  ])('%s: refused', async (_name, statement, error) => {
    await expect(asApp.query(statement)).rejects.toThrow(error);
  });

  it('the triggers are still there and still enabled', async () => {
    const triggers = await asApp.query(
      "select tgname, tgenabled from pg_trigger where tgrelid = 'audit_log'::regclass and not tgisinternal order by tgname",
    );
    expect(triggers.rows).toEqual([
      { tgname: 'audit_log_no_truncate', tgenabled: 'O' },
      { tgname: 'audit_log_no_update_or_delete', tgenabled: 'O' },
    ]);
  });
});

describe("the app role does the app's work", () => {
  it('inserts robots with their audit rows, updates and deletes robots, makes keys, appends and reads audit rows', async () => {
    const robots = new RobotsRepository(database.db);
    const robotId = randomUUID();
    const row = await robots.insert(
      {
        robotId,
        robotType: 'demo',
        robotTypeVersion: 1,
        priority: 'normal',
        inputData: {},
        idempotencyKey: null,
        requestHash: null,
      },
      auditedChange({ actor: 'mailbox:role-test', action: 'robots.create', target: robotId }),
    );
    expect(row?.robotId).toBe(robotId);
    await robots.close(robotId, 'failed', { error: 'test' });
    expect((await robots.markRetrying(robotId))?.status).toBe('queued');
    const { row: key } = await new ApiKeysRepository(database.db).create({
      name: 'role test',
      scopes: ['robots:read'],
      expiresAt: null,
    });
    const audit = new AuditRepository(database.db);
    await audit.insert(auditedChange({ actor: 'cli:test@host', action: 'keys.create', target: key.id }));
    const rows = await audit.list({ limit: 10 });
    expect(rows.map((r) => [r.actor, r.action])).toEqual(
      expect.arrayContaining([
        ['mailbox:role-test', 'robots.create'],
        ['cli:test@host', 'keys.create'],
      ]),
    );
    await robots.delete(robotId);
    expect(await robots.findById(robotId)).toBeNull();
  });
});

describe('a role that could undo the protection', () => {
  it('is refused the grants: a member of the role owning the tables', async () => {
    const member = `rpa_test_owner_member_${suffix}`;
    const owner = (await asApp.query("select tableowner from pg_tables where tablename = 'audit_log'"))
      .rows[0].tableowner as string;
    await adminQuery(`create role ${member} login in role ${owner}`);
    try {
      await expect(migratePostgres(ownerUrl, { appRole: member })).rejects.toThrow(
        /is a superuser or owns the tables/,
      );
    } finally {
      await adminQuery(`drop role ${member}`);
    }
  });
});

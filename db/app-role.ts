import type { ClientBase } from 'pg';
import { escapeIdentifier } from 'pg';

// Migrations run as the tables' owner; the application connects as a role with table privileges
// only (ADR 0033). Only an owner (or a superuser) may drop, disable or replace the audit log's
// triggers, and the app role has SELECT and INSERT on audit_log, nothing more.

/**
 * The role DATABASE_URL connects as, when DATABASE_MIGRATION_URL names another one: the role to grant
 * after migrating. Undefined when one role does both (the tables' owner: a weaker setup).
 */
export function appRoleOf(config: {
  DATABASE_URL?: string | undefined;
  DATABASE_MIGRATION_URL?: string | undefined;
}): string | undefined {
  if (!config.DATABASE_URL || !config.DATABASE_MIGRATION_URL) return undefined;
  const app = decodeURIComponent(new URL(config.DATABASE_URL).username);
  const owner = decodeURIComponent(new URL(config.DATABASE_MIGRATION_URL).username);
  return app && app !== owner ? app : undefined;
}

/**
 * Grants `role` what the application needs on every table of the schema and no more on audit_log;
 * run after each migration (new tables need their grants). Refuses a role that could undo the audit
 * log's protection: a superuser, or a member of the role owning the tables.
 */
export async function grantAppRole(client: ClientBase, role: string): Promise<void> {
  const found = await client.query<{ rolsuper: boolean; owner_member: boolean }>(
    `select r.rolsuper, pg_has_role(r.oid, t.tableowner, 'MEMBER') as owner_member
       from pg_roles r, pg_tables t
      where r.rolname = $1 and t.schemaname = 'public' and t.tablename = 'audit_log'`,
    [role],
  );
  const row = found.rows[0];
  if (!row) throw new Error(`role "${role}" (DATABASE_URL's user) does not exist: create it first`);
  if (row.rolsuper || row.owner_member) {
    throw new Error(
      `role "${role}" (DATABASE_URL's user) is a superuser or owns the tables, so it could drop the ` +
        "audit log's triggers: give DATABASE_URL a role with LOGIN and nothing else",
    );
  }
  const r = escapeIdentifier(role);
  await client.query(`grant usage on schema public to ${r}`);
  await client.query(`revoke truncate, references, trigger on all tables in schema public from ${r}`);
  await client.query(`grant select, insert, update, delete on all tables in schema public to ${r}`);
  await client.query(`grant usage, select, update on all sequences in schema public to ${r}`);
  // Append-only: read and append, no update, delete or truncate (the triggers refuse those too).
  await client.query(`revoke all on table audit_log from ${r}`);
  await client.query(`grant select, insert on table audit_log to ${r}`);
}

/** Where `rpa migrate` and `rpa start` migrate a Postgres database, and the role they grant. */
export function migrationTarget(config: {
  DATABASE_URL?: string | undefined;
  DATABASE_MIGRATION_URL?: string | undefined;
}): { url: string; appRole: string | undefined } | undefined {
  const url = config.DATABASE_MIGRATION_URL ?? config.DATABASE_URL;
  return url ? { url, appRole: appRoleOf(config) } : undefined;
}

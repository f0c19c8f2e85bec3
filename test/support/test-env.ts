import path from 'node:path';
import { Client as PgClient } from 'pg';

// Defaults for the machine's own services; .ci/run and developers may override them.
export const ROOT = path.resolve(__dirname, '..', '..');
export const ADMIN_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// A second checkout (a git worktree) running tests at the same time sets its own template name,
// since global setup drops and recreates the template.
export const TEMPLATE_DATABASE = process.env.TEST_TEMPLATE_DATABASE ?? 'rpa_test_template';
export const TEST_DATA_DIR = path.join(ROOT, '.data', 'test');

export function databaseUrl(name: string, port?: number): string {
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  if (port) url.port = String(port);
  return url.toString();
}

/** Runs one statement on the admin database (create/drop test databases). */
export async function adminQuery(sql: string): Promise<void> {
  const admin = new PgClient({ connectionString: ADMIN_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

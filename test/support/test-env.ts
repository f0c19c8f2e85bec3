import path from 'node:path';

// Defaults for the machine's own services; .ci/run and developers may override them.
export const ROOT = path.resolve(__dirname, '..', '..');
export const ADMIN_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEMPLATE_DATABASE = 'rpa_test_template';
export const TEST_DATA_DIR = path.join(ROOT, '.data', 'test');

export function databaseUrl(name: string): string {
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

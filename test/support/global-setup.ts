import path from 'node:path';
import { Client } from 'pg';
import { temporalReachable } from '../../cli/temporal-dev-server';
import { migratePostgres } from '../../db/migrate';
import { buildWorkflowBundle } from '../../scripts/build-workflow-bundle';
import { ADMIN_DATABASE_URL, databaseUrl, TEMPLATE_DATABASE, TEST_DATA_DIR } from './test-env';
import { startTestTemporal } from './test-temporal';

/** Runs once: a migrated template database, a Temporal server, a prebuilt workflow bundle. */
export default async function globalSetup(): Promise<void> {
  const admin = new Client({ connectionString: ADMIN_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${TEMPLATE_DATABASE} with (force)`);
    await admin.query(`create database ${TEMPLATE_DATABASE}`);
  } finally {
    await admin.end();
  }
  await migratePostgres(databaseUrl(TEMPLATE_DATABASE));

  const address = process.env.TEMPORAL_ADDRESS;
  if (!address || !(await temporalReachable(address))) {
    const port = Number(process.env.TEST_TEMPORAL_PORT ?? 7255);
    const server = await startTestTemporal(port, path.join(TEST_DATA_DIR, 'temporal.log'));
    (globalThis as { __temporalDevServer?: typeof server }).__temporalDevServer = server;
    process.env.TEMPORAL_ADDRESS = server.address;
  }

  // Bundling workflows takes seconds; do it once instead of in every test file.
  process.env.WORKFLOW_BUNDLE_PATH = await buildWorkflowBundle(
    path.join(TEST_DATA_DIR, 'workflow-bundle.js'),
  );
}

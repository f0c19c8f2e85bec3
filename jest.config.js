// Unit tests are pure; integration and e2e tests share one global setup that prepares real
// Postgres (a migrated template database), Temporal (dev server) and the workflow bundle.
// .mjs: the dashboard's browser modules (dashboard/), imported by their unit tests.
const transform = { '^.+\\.(ts|mjs)$': ['@swc/jest', { jsc: { target: 'es2022' } }] };

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 60_000,
  // One test file at a time (the suites share one machine's Temporal, Postgres and CPU), in a worker
  // process that is replaced once it holds more than this after a file: run in band, the whole suite
  // grew the one process past V8's default heap (about 4 GB) and GC pauses turned health probes 503.
  maxWorkers: 1,
  workerIdleMemoryLimit: '1536MB',
  projects: [
    {
      displayName: 'unit',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
      transform,
      testEnvironment: 'node',
    },
    {
      // Steps of modules made with the SDK (modules/, examples/): pure, like unit tests.
      displayName: 'modules',
      testMatch: [
        '<rootDir>/modules/**/*.test.ts',
        '<rootDir>/examples/**/*.test.ts',
        // a module scaffolded elsewhere in the project (rpa modules init --dir)
        '<rootDir>/**/module.test.ts',
      ],
      transform,
      testEnvironment: 'node',
    },
    {
      displayName: 'integration',
      testMatch: [
        '<rootDir>/test/integration/**/*.test.ts',
        '<rootDir>/test/e2e/**/*.test.ts',
        // Faults on real processes (npm run chaos runs these alone; npm test their short versions).
        '<rootDir>/test/chaos/**/*.test.ts',
      ],
      transform,
      testEnvironment: 'node',
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      // Fails each test once the dev server global setup started has exited, with its log.
      setupFilesAfterEnv: ['<rootDir>/test/support/temporal-alive.ts'],
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
  ],
};

import { assertTestTemporalAlive } from './test-temporal';

// Runs before each integration test file (jest.config.js setupFilesAfterEnv): registered ahead of
// the file's own hooks, so a dead dev server is reported before they wait on it.
beforeAll(() => assertTestTemporalAlive());
beforeEach(() => assertTestTemporalAlive());

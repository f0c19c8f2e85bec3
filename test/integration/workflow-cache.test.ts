import { startTestSystem, type TestSystem } from '../support/test-system';

// The control worker's workflow cache is capped by WORKFLOW_CACHE_SIZE, not sized by the SDK from
// the V8 heap limit (about 2,300 workflows with Node's default 4 GiB heap): a long run keeps the
// cached robots, and so the worker's memory, within a bound the operator chose (ADR 0037).

let system: TestSystem;

afterEach(async () => {
  await system?.close();
});

test('WORKFLOW_CACHE_SIZE caps the control worker’s workflow cache', async () => {
  system = await startTestSystem({ module: false, env: { WORKFLOW_CACHE_SIZE: '25' } });
  expect(system.controlWorker.options.maxCachedWorkflows).toBe(25);
});

test('the cap defaults to 500 cached workflows, whatever the heap', async () => {
  system = await startTestSystem({ module: false });
  expect(system.config.WORKFLOW_CACHE_SIZE).toBe(500);
  expect(system.controlWorker.options.maxCachedWorkflows).toBe(500);
});

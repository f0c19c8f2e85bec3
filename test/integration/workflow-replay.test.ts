import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// Recorded histories of earlier versions must replay on today's workflow code: a change that would
// break running robots fails here (guard it with patched() instead). RECORD_HISTORIES=1 refreshes them.
const fixtures = path.join(__dirname, '..', 'fixtures', 'histories');
const bundle = () => {
  const codePath = process.env.WORKFLOW_BUNDLE_PATH;
  if (!codePath) throw new Error('global setup sets WORKFLOW_BUNDLE_PATH');
  return { workflowBundle: { codePath } };
};

let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem();
});

afterAll(async () => {
  await system?.close();
});

async function runRobot(input: Record<string, unknown>) {
  const created = await system.api.post('/v1/robots').send({ type: 'demo', input });
  const handle = system.temporal.workflow.getHandle(created.body.robotId);
  await handle.result().catch(() => undefined);
  return eventually(async () =>
    (await handle.describe()).status.name !== 'RUNNING' ? handle.fetchHistory() : undefined,
  );
}

describe('workflow replay', () => {
  it('replays a fresh completed and failed run deterministically', async () => {
    const completed = await runRobot({ text: 'invoice total due' });
    const failed = await runRobot({});
    await Worker.runReplayHistory(bundle(), completed, 'completed');
    await Worker.runReplayHistory(bundle(), failed, 'failed');
    if (process.env.RECORD_HISTORIES === '1') {
      writeFileSync(path.join(fixtures, 'demo-completed.json'), historyToJSON(completed));
      writeFileSync(path.join(fixtures, 'demo-failed.json'), historyToJSON(failed));
    }
  });

  // Recorded with RECORD_HISTORIES=1 by the test above, in the format of `temporal workflow show -o json`.
  const recorded = readdirSync(fixtures).filter((file) => file.endsWith('.json'));

  it('has recorded histories to replay', () => {
    expect(recorded.length).toBeGreaterThanOrEqual(2);
  });

  it.each(recorded)('replays recorded history %s', async (file) => {
    const history = historyFromJSON(JSON.parse(readFileSync(path.join(fixtures, file), 'utf8')));
    await expect(Worker.runReplayHistory(bundle(), history, file)).resolves.toBeUndefined();
  });
});

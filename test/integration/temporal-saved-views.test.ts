import { readFileSync } from 'node:fs';
import path from 'node:path';
import { maintenanceWorkflowId } from '../../core/domain/maintenance-workflow.contract';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// The README's saved views of the Temporal Web UI, read from the README itself and run through
// client.workflow.list on the dev server: each is a valid query, and finds what its name says.

const README = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');

/** The `| view | query |` rows after the saved-views marker, up to the table's end. */
function savedViews(): Map<string, string> {
  const start = README.indexOf('<!-- saved-views:');
  expect(start).toBeGreaterThan(-1);
  const views = new Map<string, string>();
  for (const line of README.slice(start).split('\n').slice(1)) {
    if (!line.startsWith('|')) break;
    const match = /^\| ([^|]+?) \| `([^`]+)` \|$/.exec(line);
    if (match?.[1] && match[2]) views.set(match[1], match[2]);
  }
  return views;
}

let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem();
});

afterAll(async () => {
  await system?.close();
});

it('every saved view of the README is a valid query that finds what it names', async () => {
  const views = savedViews();
  expect([...views.keys()]).toEqual([
    'Robots',
    'Robots of one type',
    'Robots running now',
    'Robots waiting for a person',
    'Failed robots',
    'Everything but maintenance',
    'Maintenance',
  ]);

  const done = await system.api.post('/v1/robots').send({ type: 'demo', input: { text: 'an order' } });
  await system.temporal.workflow.getHandle(done.body.robotId).result();
  const waiting = await system.api
    .post('/v1/robots')
    .send({ type: 'approval-demo', input: { text: 'invoice' } });
  await eventually(async () => {
    const res = await system.api.get(`/v1/robots/${waiting.body.robotId}`);
    return res.body.status === 'awaiting_approval' ? true : undefined;
  });
  const maintenance = maintenanceWorkflowId(system.config.CONTROL_TASK_QUEUE, 'cleanup');
  const ours = [done.body.robotId, waiting.body.robotId, maintenance] as string[];

  const expected: Record<string, string[]> = {
    Robots: [done.body.robotId, waiting.body.robotId],
    'Robots of one type': [done.body.robotId],
    'Robots running now': [waiting.body.robotId],
    'Robots waiting for a person': [waiting.body.robotId],
    'Failed robots': [],
    'Everything but maintenance': [done.body.robotId, waiting.body.robotId],
    Maintenance: [maintenance],
  };
  const runViews = async () => {
    const results: Record<string, string[]> = {};
    for (const [name, query] of views) {
      const narrowed = `(${query}) AND WorkflowId IN (${ours.map((id) => `'${id}'`).join(', ')})`;
      const ids: string[] = [];
      for await (const wf of system.temporal.workflow.list({ query: narrowed })) ids.push(wf.workflowId);
      results[name] = ids.sort();
    }
    return results;
  };
  const wanted = Object.fromEntries(Object.entries(expected).map(([name, ids]) => [name, [...ids].sort()]));
  // Visibility follows the workflows by a moment: polled until every view agrees, else the last answer
  // (or the server's refusal of a query) is what fails the test.
  const found = await eventually(async () => {
    const results = await runViews();
    return JSON.stringify(results) === JSON.stringify(wanted) ? results : undefined;
  }, 30_000).catch(runViews);
  expect(found).toEqual(wanted);
});

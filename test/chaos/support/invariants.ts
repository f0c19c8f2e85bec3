import { isDeepStrictEqual } from 'node:util';
import type { ChaosCluster } from './cluster';
import type { CreatedRobot } from './workload';

// The end-of-run invariants of every chaos scenario (issue 16): every robot asked for completed,
// each Postgres row agrees with its workflow (status and output), and every side effect is at its
// sink exactly once. What breaks one is listed by robot, so a failing scenario says what it lost.

export interface Verdict {
  robots: number;
  /** Robots asked for that did not complete, or whose side effect never arrived. */
  lost: string[];
  /** Robots, workflows or side effects found more than once, or rows disagreeing with workflows. */
  duplicated: string[];
  sinks: Record<string, number>;
  /** Robots a fault reached: a step attempt after the first, or a failover to another module. */
  hit: number;
}

export interface Expectations {
  /** The type sends one email per robot (step `mail`). */
  email: boolean;
  /** Robots the scenario cancelled on purpose: `cancelled` is their expected end. */
  cancelled?: ReadonlySet<string>;
  /**
   * Robots whose type has the webhook and custom steps (and the email, with `email`); the others are
   * expected at no sink. Default: every robot asked for.
   */
  sideEffects?: ReadonlySet<string>;
}

const TERMINAL = ['completed', 'failed', 'cancelled'];

/** Waits until every robot's row is terminal; the robots still not terminal are then lost. */
export async function settle(
  cluster: ChaosCluster,
  robots: CreatedRobot[],
  timeoutMs: number,
): Promise<void> {
  const ids = robots.map((robot) => robot.robotId);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { rows } = await cluster.sql.query<{ open: string }>(
      'select count(*) as open from robots where robot_id = any($1) and status <> all($2)',
      [ids, TERMINAL],
    );
    if (Number(rows[0]?.open) === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  // A robot's final row is written just before its workflow completes; a control worker killed in
  // between leaves the workflow running until its last task is picked up again (the sticky queue's
  // timeout), so the workflows are waited for too before the invariants compare both.
  let running = ids;
  while (running.length > 0 && Date.now() < deadline) {
    const open: string[] = [];
    for (const id of running) {
      // One that cannot be described is the invariants' to report, not a reason to wait.
      const status = await cluster.temporal.workflow
        .getHandle(id)
        .describe()
        .then(
          (description) => description.status.name,
          () => 'UNKNOWN',
        );
      if (status === 'RUNNING') open.push(id);
    }
    running = open;
    if (running.length > 0) await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function messageIds(raw: string): string[] {
  return [...raw.matchAll(/^message-id:\s*(<[^>]+>)/gim)].map((match) => match[1] ?? '');
}

export async function checkInvariants(
  cluster: ChaosCluster,
  robots: CreatedRobot[],
  expect: Expectations,
): Promise<Verdict> {
  const lost: string[] = [];
  const duplicated: string[] = [];
  const asked = new Map(robots.map((robot) => [robot.robotId, robot.key]));

  // Rows: one per key asked, nothing else (the scenario owns the whole database).
  const { rows } = await cluster.sql.query<{
    robot_id: string;
    status: string;
    output_data: Record<string, unknown> | null;
    idempotency_key: string | null;
    error_message: string | null;
    retry_count: number;
  }>('select robot_id, status, output_data, idempotency_key, error_message, retry_count from robots');
  const byId = new Map(rows.map((row) => [row.robot_id, row]));
  const perKey = new Map<string, number>();
  for (const row of rows) {
    if (!asked.has(row.robot_id))
      duplicated.push(`row ${row.robot_id} (key ${row.idempotency_key}) was not asked for`);
    if (row.idempotency_key) perKey.set(row.idempotency_key, (perKey.get(row.idempotency_key) ?? 0) + 1);
  }
  for (const [key, count] of perKey) if (count > 1) duplicated.push(`key ${key} has ${count} robots`);

  // Workflows: one robot workflow per row, same id, same end, same output.
  const workflowIds: string[] = [];
  for await (const workflow of cluster.temporal.workflow.list({ query: "WorkflowType = 'robotWorkflow'" })) {
    workflowIds.push(workflow.workflowId);
  }
  for (const id of workflowIds) if (!byId.has(id)) duplicated.push(`workflow ${id} has no row`);
  if (new Set(workflowIds).size !== workflowIds.length) duplicated.push('a robot id has two workflows');

  const expected = (id: string) => (expect.cancelled?.has(id) ? 'cancelled' : 'completed');
  const ids = [...asked.keys()];
  for (let i = 0; i < ids.length; i += 16) {
    await Promise.all(
      ids.slice(i, i + 16).map(async (id) => {
        const row = byId.get(id);
        if (!row) {
          lost.push(`${id}: no row`);
          return;
        }
        if (row.status !== expected(id)) {
          lost.push(
            `${id}: ${row.status}${row.error_message ? ` (${row.error_message.slice(0, 300)})` : ''}`,
          );
          return;
        }
        const handle = cluster.temporal.workflow.getHandle(id);
        const description = await handle.describe();
        const workflowStatus = description.status.name;
        if (row.status === 'completed') {
          if (workflowStatus !== 'COMPLETED') {
            duplicated.push(`${id}: row completed, workflow ${workflowStatus}`);
            return;
          }
          const result = (await handle.result()) as { output?: unknown };
          if (!isDeepStrictEqual(result.output, row.output_data)) {
            duplicated.push(`${id}: row output differs from the workflow's`);
          }
        } else if (workflowStatus !== 'CANCELLED') {
          duplicated.push(`${id}: row cancelled, workflow ${workflowStatus}`);
        }
      }),
    );
  }

  // Sinks: exactly one effect per completed robot.
  const completed = ids.filter(
    (id) => byId.get(id)?.status === 'completed' && (expect.sideEffects?.has(id) ?? true),
  );
  const sinks: Record<string, number> = {};
  for (const [name, receiver] of [
    ['webhooks', cluster.hooks],
    ['calls', cluster.calls],
  ] as const) {
    const keys = receiver.keysByRobot();
    for (const [robotId, robotKeys] of keys) {
      if (!asked.has(robotId)) duplicated.push(`${name}: delivery for unknown robot ${robotId}`);
      else if (expect.sideEffects && !expect.sideEffects.has(robotId))
        duplicated.push(`${name}: delivery for robot ${robotId}, whose type has no such step`);
      else if (robotKeys.size > 1)
        duplicated.push(`${name}: robot ${robotId} delivered under ${robotKeys.size} keys`);
    }
    for (const id of completed) if (!keys.has(id)) lost.push(`${name}: nothing delivered for ${id}`);
    sinks[name] = keys.size;
    sinks[`${name} redelivered`] = receiver.deliveries.length - keys.size;
  }
  if (expect.email) {
    const mails = new Map<string, number>();
    for (const mail of cluster.smtp.mails) {
      for (const id of messageIds(mail.raw)) mails.set(id, (mails.get(id) ?? 0) + 1);
    }
    for (const [messageId, count] of mails)
      if (count > 1) duplicated.push(`email ${messageId} arrived ${count} times`);
    for (const id of completed)
      if (!mails.has(`<${id}.mail@rpa-orchestrator>`)) lost.push(`email of ${id} never arrived`);
    for (const messageId of mails.keys()) {
      const robotId = /^<([^.]+)\.mail@/.exec(messageId)?.[1];
      if (!robotId || !asked.has(robotId)) duplicated.push(`email ${messageId} is of no robot asked for`);
      else if (expect.sideEffects && !expect.sideEffects.has(robotId))
        duplicated.push(`email ${messageId} is of a robot whose type sends none`);
    }
    sinks.emails = cluster.smtp.mails.length;
  }
  // A hold step's output names its attempt (the noop step reports it).
  const hit = rows.filter(
    (row) => row.retry_count > 0 || /"attempt":([2-9]|\d{2,})/.test(JSON.stringify(row.output_data ?? {})),
  ).length;
  return { robots: robots.length, lost, duplicated, sinks, hit };
}

/**
 * Recovery of each fault: from its end (restart, heal) until the next robot completed, read from the
 * rows' completion times.
 */
export async function recoveryTimes(cluster: ChaosCluster, faultEnds: number[]): Promise<number[]> {
  const { rows } = await cluster.sql.query<{ at: Date }>(
    "select updated_at as at from robots where status = 'completed' order by updated_at",
  );
  const completions = rows.map((row) => row.at.getTime());
  return faultEnds.flatMap((end) => {
    const next = completions.find((at) => at >= end);
    return next === undefined ? [] : [next - end];
  });
}

/** Robots completed so far: scenarios pace their faults by it, so faults spread over the run. */
export async function completedCount(cluster: ChaosCluster): Promise<number> {
  const { rows } = await cluster.sql.query<{ n: string }>(
    "select count(*) as n from robots where status = 'completed'",
  );
  return Number(rows[0]?.n ?? 0);
}

/** Waits until at least `count` robots have completed; throws when that takes longer than `timeoutMs`. */
export async function untilCompleted(
  cluster: ChaosCluster,
  count: number,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await completedCount(cluster)) < count) {
    if (Date.now() > deadline) throw new Error(`fewer than ${count} robots completed within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Robots not yet completed, failed or cancelled: the work a fault can reach. */
export async function openCount(cluster: ChaosCluster): Promise<number> {
  const { rows } = await cluster.sql.query<{ n: string }>(
    "select count(*) as n from robots where status not in ('completed', 'failed', 'cancelled')",
  );
  return Number(rows[0]?.n ?? 0);
}

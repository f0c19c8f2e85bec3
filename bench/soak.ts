// `npm run soak`: robots through the whole system for a long time, without faults, to see what
// stays flat and what grows. A chaos cluster of real processes (test/chaos/support/cluster.ts): an
// API, the control worker, two replicas of a module and a mailer, the SDK module; a load generator
// process creates a mix of robot types through the API at a target rate while an answerer approves
// the waiting ones and a sampler reads every process's RSS, Postgres and Redis. At the end: every
// robot completed, rows == workflows == side effects at their sinks (the chaos invariants), RSS
// flat, and the growth of Postgres and Redis per robot; a section of RELIABILITY.md and a JSON file.
//
//   npm run soak -- [--robots 10000] [--rate 5] [--hold-ms 200] [--apis 1] [--sample-seconds 5]
//                   [--smoke] [--out FILE] [--reliability FILE]
//
// `--smoke` (60 robots, test/e2e/soak-smoke.test.ts) writes RELIABILITY.md only when given
// --reliability; a full run writes it unless it failed. Exit 1 when an invariant or the RSS verdict
// (full runs only: a smoke run is all warm-up) failed.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { Connection } from '@temporalio/client';
import type { Client as PgClient } from 'pg';
import { migratePostgres } from '../db/migrate';
import { buildWorkflowBundle } from '../scripts/build-workflow-bundle';
import { startChaosCluster } from '../test/chaos/support/cluster';
import { checkInvariants } from '../test/chaos/support/invariants';
import type { CreatedRobot } from '../test/chaos/support/workload';
import { adminQuery, databaseUrl } from '../test/support/test-env';
import {
  describeMachine,
  interruption,
  machineSummary,
  ROOT,
  runBench,
  throwIfInterrupted,
} from './bench-support';
import { startApprovalAnswerer } from './soak/approval-answerer';
import type { LoadPlan, LoadSummary } from './soak/load-generator';
import { mib, renderSection, rssRows, type SoakSummary, writeSection } from './soak/report';
import { type ResourceSample, ResourceSampler } from './soak/resources';
import { kindOf, type RobotKind, registerRobotTypes } from './soak/robot-mix';

const { values } = parseArgs({
  options: {
    robots: { type: 'string' },
    rate: { type: 'string' },
    'hold-ms': { type: 'string' },
    apis: { type: 'string' },
    'sample-seconds': { type: 'string' },
    smoke: { type: 'boolean' },
    out: { type: 'string' },
    reliability: { type: 'string' },
  },
});
const smoke = values.smoke === true;
function numberOption(name: keyof typeof values, full: number, small: number): number {
  const raw = values[name];
  if (typeof raw !== 'string') return smoke ? small : full;
  const value = Number(raw);
  if (!(value > 0) || !Number.isFinite(value)) throw new Error(`--${name} must be a positive number`);
  return value;
}
const opts = {
  robots: Math.round(numberOption('robots', 10_000, 60)),
  rate: numberOption('rate', 5, 10),
  holdMs: Math.round(numberOption('hold-ms', 200, 200)),
  apis: Math.round(numberOption('apis', 1, 1)),
  sampleSeconds: numberOption('sample-seconds', 5, 1),
};
const outFile = values.out
  ? path.resolve(values.out)
  : path.join(ROOT, 'bench', 'results', `soak${smoke ? '.smoke' : ''}.json`);
const reliabilityFile = values.reliability
  ? path.resolve(values.reliability)
  : smoke
    ? null
    : path.join(ROOT, 'RELIABILITY.md');
const loadMs = (opts.robots / opts.rate) * 1000;
/** The drain fails when no robot finished for this long (a backlog drains as slowly as it must). */
const STALL_MS = 180_000;

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** Runs the load generator as a process of its own; resolves with its summary when it exits. */
function runLoadGenerator(
  plan: LoadPlan,
  onCreated: (robot: CreatedRobot & { kind: RobotKind }) => void,
  onPid: (pid: number | undefined) => void,
): Promise<LoadSummary> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(__dirname, 'soak', 'load-generator.ts')],
    {
      cwd: ROOT,
      env: { ...process.env, SOAK_LOAD_PLAN: JSON.stringify(plan) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  onPid(child.pid);
  // SIGINT or the hard timeout (runBench): the generator stops, and so does the wait for it.
  const watchdog = setInterval(() => {
    if (interruption.aborted) child.kill('SIGTERM');
  }, 200);
  let summary: LoadSummary | null = null;
  let errors = '';
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line.startsWith('created ')) onCreated(JSON.parse(line.slice(8)));
    else if (line.startsWith('done ')) summary = JSON.parse(line.slice(5)) as LoadSummary;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    errors = (errors + chunk.toString()).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearInterval(watchdog);
      if (code === 0 && summary) resolve(summary);
      else reject(new Error(`load generator exited ${code}: ${errors}`));
    });
  });
}

/**
 * Waits until every robot's row is terminal, or none finished for STALL_MS: the robots still open
 * then are lost, which the invariants report by robot. Returns how many were still open.
 */
async function drain(sql: PgClient, ids: string[]): Promise<number> {
  let open = Number.POSITIVE_INFINITY;
  let progressAt = Date.now();
  for (;;) {
    throwIfInterrupted();
    const { rows } = await sql.query<{ open: string }>(
      "select count(*) as open from robots where robot_id = any($1) and status not in ('completed', 'failed', 'cancelled')",
      [ids],
    );
    const now = Number(rows[0]?.open);
    if (now === 0) return 0;
    if (now < open) [open, progressAt] = [now, Date.now()];
    if (Date.now() - progressAt > STALL_MS) {
      console.error(`${now} robots stalled: none finished in ${STALL_MS / 1000} s`);
      return now;
    }
    await sleep(1000);
  }
}

runBench(
  async (defer) => {
    const startedAt = Date.now();
    console.log(
      `soak${smoke ? ' (smoke)' : ''}: ${opts.robots} robots at ${opts.rate}/s, hold ${opts.holdMs} ms, ${opts.apis} API process(es)`,
    );
    // The cluster copies its database from a migrated template; the soak makes its own.
    const template = `rpa_soak_template_${randomBytes(4).toString('hex')}`;
    await adminQuery(`create database ${template}`);
    defer(() => adminQuery(`drop database if exists ${template} with (force)`));
    await migratePostgres(databaseUrl(template));
    const bundle =
      process.env.WORKFLOW_BUNDLE_PATH ??
      (await buildWorkflowBundle(path.join(ROOT, '.data', 'soak', 'workflow-bundle.js')));

    const cluster = await startChaosCluster({
      label: 'soak',
      modules: [
        { name: 'soak-a', replicas: 2, capacity: 10 },
        { name: 'soak-mail', replicas: 1, capacity: 10, mailer: true },
      ],
      apis: opts.apis,
      templateDatabase: template,
      // The defaults a deployment runs with, not the cluster's fast-failure settings made for chaos:
      // without faults, a step retried because a busy machine was a few seconds late is noise.
      env: {
        WORKFLOW_BUNDLE_PATH: bundle,
        MODULE_HEARTBEAT_SECONDS: '5',
        MODULE_REPLICA_TTL_SECONDS: '15',
        MODULE_WAIT_SECONDS: '5',
        MODULE_PICKUP_TIMEOUT_SECONDS: '20',
        STEP_HEARTBEAT_TIMEOUT_SECONDS: '10',
        HEALTH_MONITOR_INTERVAL_SECONDS: '30',
      },
    });
    defer(() => cluster.close());
    await registerRobotTypes(cluster);
    const machine = `${machineSummary(await describeMachine(cluster.temporal.connection as Connection, 'chaos cluster dev server'))}, commit ${gitCommit()}`;
    console.log(`cluster up in ${((Date.now() - startedAt) / 1000).toFixed(1)} s on ${machine}`);

    let generatorPid: number | undefined;
    const pids = () => ({
      ...Object.fromEntries(cluster.apis.map((api) => [api.label, api.pid])),
      control: cluster.control.pid,
      ...Object.fromEntries(
        [...cluster.modules.values()].flat().map((replica) => [replica.label, replica.pid]),
      ),
      [cluster.callModule.label]: cluster.callModule.pid,
      temporal: cluster.temporalServer.process.pid,
      'load generator': generatorPid,
    });
    const loadStartedAt = Date.now();
    const sampler = new ResourceSampler(
      cluster.sql,
      cluster.redis.url,
      pids,
      path.join(cluster.dir, 'temporal.sqlite'),
      loadStartedAt,
    );
    defer(async () => sampler.close());
    const tablesBefore = await sampler.tableBytes();
    const before = await sampler.sample();

    const robots: (CreatedRobot & { kind: RobotKind })[] = [];
    const answerer = startApprovalAnswerer(cluster, 500);
    defer(async () => void (await answerer.stop()));
    sampler.start(opts.sampleSeconds * 1000, (sample: ResourceSample) => {
      const control = sample.rss.control;
      console.log(
        `${(sample.atMs / 1000).toFixed(0).padStart(5)} s  created ${robots.length}  completed ${sample.completed}  approved ${answerer.approved.size}  control RSS ${control ? mib(control) : '—'}  db ${mib(sample.databaseBytes)}  redis ${sample.redisKeys} keys`,
      );
    });
    const load = await runLoadGenerator(
      {
        apiUrls: cluster.apiUrls,
        apiKey: cluster.adminKey,
        robots: opts.robots,
        rate: opts.rate,
        keyPrefix: `soak-${randomBytes(3).toString('hex')}`,
        holdMs: opts.holdMs,
        maxInFlight: 50,
        giveUpMs: 180_000,
      },
      (robot) => robots.push(robot),
      (pid) => {
        generatorPid = pid;
      },
    );
    sampler.phase = 'drain';
    const loadEndedAt = Date.now();
    const stalled = await drain(
      cluster.sql,
      robots.map((robot) => robot.robotId),
    );
    const drainMs = Date.now() - loadEndedAt;
    const approvals = await answerer.stop();
    await sampler.stop();
    const after = await sampler.sample();
    const tablesAfter = await sampler.tableBytes();

    const chaosRobots = new Set(robots.filter((r) => r.kind === 'chaos').map((r) => r.robotId));
    const verdict = await checkInvariants(cluster, robots, { email: true, sideEffects: chaosRobots });
    const mix = { chaos: 0, approval: 0, plain: 0 };
    for (let i = 0; i < opts.robots; i++) mix[kindOf(i)] += 1;
    // Approvals as the robots recorded them (the approval step's output), not as the answerer
    // heard them: an approve whose answer was lost (a 503 after the update took effect, then 409 on
    // the retry) still approved its robot.
    const { rows } = await cluster.sql.query<{ rows: string; completed: string; approved: string }>(
      `select count(*) as rows, count(*) filter (where status = 'completed') as completed,
              count(*) filter (where status = 'completed' and output_data -> 'review' ->> 'approved' = 'true') as approved
         from robots`,
    );
    const workflows = await cluster.temporal.workflow.count(
      "WorkflowType = 'robotWorkflow' AND ExecutionStatus = 'Completed'",
    );
    const counts = {
      started: robots.length,
      completed: Number(rows[0]?.completed),
      rows: Number(rows[0]?.rows),
      'workflows completed': workflows.count,
      webhooks: verdict.sinks.webhooks ?? 0,
      'custom calls': verdict.sinks.calls ?? 0,
      emails: verdict.sinks.emails ?? 0,
      approvals: Number(rows[0]?.approved),
    };
    const countProblems = [
      ...(['started', 'completed', 'rows', 'workflows completed'] as const)
        .filter((name) => counts[name] !== opts.robots)
        .map((name) => `${name} ${counts[name]} ≠ ${opts.robots} asked`),
      ...(['webhooks', 'custom calls', 'emails'] as const)
        .filter((name) => counts[name] !== mix.chaos)
        .map((name) => `${name} ${counts[name]} ≠ ${mix.chaos} chaos robots`),
      ...(counts.approvals !== mix.approval ? [`approvals ${counts.approvals} ≠ ${mix.approval}`] : []),
    ];

    const rss = rssRows(sampler.samples);
    const redisShapes = Object.entries(await sampler.redisKeyShapes(cluster.env.REDIS_KEY_PREFIX ?? ''))
      .sort((a, b) => b[1].keys - a[1].keys)
      .slice(0, 8);
    const summary: SoakSummary = {
      date: new Date().toISOString().slice(0, 10),
      machine,
      smoke,
      robots: opts.robots,
      mix,
      rateAsked: opts.rate,
      load: {
        durationMs: load.durationMs,
        achievedRate: load.achievedRate,
        retries: load.retries,
        maxLagMs: load.maxLagMs,
        createP99Ms: load.createMs.p99,
      },
      totalMs: Date.now() - loadStartedAt,
      drainMs,
      counts,
      lost: verdict.lost.length,
      duplicated: verdict.duplicated.length,
      retried: verdict.hit,
      stalled,
      approvals: {
        approved: approvals.approved,
        waitP50Ms: approvals.waitMs.p50,
        refused: approvals.refused,
        refusals: approvals.refusals,
      },
      rss,
      growth: {
        databaseBytes: after.databaseBytes - before.databaseBytes,
        tables: Object.entries(tablesAfter)
          .map(([table, bytes]): [string, number] => [table, bytes - (tablesBefore[table] ?? 0)])
          .filter(([, bytes]) => bytes !== 0)
          .sort((a, b) => b[1] - a[1]),
        redisBytes: after.redisBytes - before.redisBytes,
        redisKeys: after.redisKeys - before.redisKeys,
        redisShapes,
        temporalFileBytes: after.temporalFileBytes - before.temporalFileBytes,
      },
    };
    const section = renderSection(summary);
    console.log(`\n${section}\n`);
    const notFlat = rss.filter((row) => row.judged && !row.flat).map((row) => row.process);
    const problems = [
      ...verdict.lost.slice(0, 10).map((line) => `lost: ${line}`),
      ...verdict.duplicated.slice(0, 10).map((line) => `duplicated: ${line}`),
      ...countProblems,
      ...(!smoke && notFlat.length > 0 ? [`RSS not flat: ${notFlat.join(', ')}`] : []),
    ];
    mkdirSync(path.dirname(outFile), { recursive: true });
    writeFileSync(
      outFile,
      `${JSON.stringify({ options: opts, ...summary, verdict, load, approvals, problems, samples: sampler.samples }, null, 2)}\n`,
    );
    console.log(`results written to ${path.relative(process.cwd(), outFile)}`);
    if (problems.length > 0) {
      console.error(`soak failed:\n  ${problems.join('\n  ')}`);
      return 1;
    }
    if (reliabilityFile) {
      writeSection(reliabilityFile, section);
      console.log(`section written to ${path.relative(process.cwd(), reliabilityFile)}`);
    }
    return 0;
  },
  // The load, twice over for a slow machine, the drain, and the set-up and checks.
  loadMs * 3 + 900_000,
);

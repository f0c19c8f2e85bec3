// Latency of `POST /v1/robots` against a raw `client.workflow.start` of the same workflow, measured
// in the same run with the same loop, in interleaved blocks so machine noise hits both sides alike.
// No worker runs: only the start path is measured, workflows stay queued and are terminated at the end.
// Usage: npm run bench -- [--requests N] [--concurrency C] [--warmup W] [--blocks B]
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { createApp } from '../api/app';
import { startTemporalDevServer, temporalReachable } from '../cli/temporal-dev-server';
import { parseConfig } from '../core/config';
import { createLogger } from '../core/logger';
import { findBuiltInRobotType } from '../core/robot-types';
import { RobotPriorityKey, RobotStatusKey, RobotTypeKey } from '../core/search-attributes';
import { createStatusCache } from '../core/status-cache';
import { temporalConnectionOptions } from '../core/temporal-options';
import { createDatabase } from '../db/client';
import { migratePostgres } from '../db/migrate';
import { adminQuery, databaseUrl, TEST_REDIS_URL } from '../test/support/test-env';
import { ROBOT_WORKFLOW, type RobotWorkflowInput } from '../workflows/robot.definitions';

const ROOT = path.resolve(__dirname, '..');
const RESULTS_FILE = path.join(ROOT, 'bench', 'results', 'api-create.json');
const BENCHMARKS_FILE = path.join(ROOT, 'BENCHMARKS.md');
const START_MARKER = '<!-- api-create:start -->';
const END_MARKER = '<!-- api-create:end -->';
const BENCH_DATABASE = 'rpa_bench';
const DEV_SERVER_PORT = 7266; // never the developer's 7233/8233 nor the tests' 7255
const GOAL = { ratio: 1.3, p99Ms: 20 };
const BODY = JSON.stringify({ type: 'demo', input: { text: 'bench' } });

interface Stats {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  max: number;
  opsPerSecond: number;
}
type StatKey = 'p50' | 'p90' | 'p99' | 'mean' | 'max';
const STAT_KEYS: StatKey[] = ['p50', 'p90', 'p99', 'mean', 'max'];

interface Sample {
  latencies: number[];
  errors: string[];
  wallMs: number;
}

let aborted = false;

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`--${name} must be a positive integer`);
  return parsed;
}

function options() {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string' },
      concurrency: { type: 'string' },
      warmup: { type: 'string' },
      blocks: { type: 'string' },
    },
  });
  return {
    requests: positiveInt('requests', values.requests, 2000),
    concurrency: positiveInt('concurrency', values.concurrency, 16),
    warmup: positiveInt('warmup', values.warmup, 100),
    blocks: positiveInt('blocks', values.blocks, 4),
  };
}

/** Runs `count` operations with `concurrency` in flight; records each successful one's latency in ms. */
async function measure(count: number, concurrency: number, op: () => Promise<void>): Promise<Sample> {
  const sample: Sample = { latencies: [], errors: [], wallMs: 0 };
  let issued = 0;
  const lane = async () => {
    while (issued < count && !aborted) {
      issued += 1;
      const started = performance.now();
      try {
        await op();
        sample.latencies.push(performance.now() - started);
      } catch (err) {
        sample.errors.push(err instanceof Error ? err.message : String(err));
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  sample.wallMs = performance.now() - started;
  return sample;
}

function merge(samples: Sample[]): Sample {
  return {
    latencies: samples.flatMap((s) => s.latencies),
    errors: samples.flatMap((s) => s.errors),
    wallMs: samples.reduce((sum, s) => sum + s.wallMs, 0),
  };
}

function summarize(sample: Sample): Stats {
  const sorted = Float64Array.from(sample.latencies).sort();
  const at = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
  const round = (value: number) => Math.round(value * 100) / 100;
  return {
    count: sorted.length,
    p50: round(at(50)),
    p90: round(at(90)),
    p99: round(at(99)),
    mean: round(sorted.reduce((sum, value) => sum + value, 0) / Math.max(1, sorted.length)),
    max: round(sorted.at(-1) ?? Number.NaN),
    opsPerSecond: Math.round((sorted.length / Math.max(1, sample.wallMs)) * 1000),
  };
}

/** A POST over a keep-alive agent with at most `concurrency` sockets: the same pacing as the baseline. */
function postJson(agent: http.Agent, url: URL, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Terminates what the run started: the ids we know, then whatever visibility still lists as running. */
async function terminateAll(client: Client, taskQueue: string, ids: string[]): Promise<number> {
  const deadline = Date.now() + 120_000;
  const terminate = async (id: string) => {
    try {
      await client.workflow.getHandle(id).terminate('benchmark cleanup');
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  };
  const queue = [...ids];
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let id = queue.pop(); id !== undefined && Date.now() < deadline; id = queue.pop()) {
        await terminate(id);
      }
    }),
  );
  const query = `TaskQueue="${taskQueue}" AND ExecutionStatus="Running"`;
  for (let pass = 0; pass < 5 && Date.now() < deadline; pass += 1) {
    const stragglers: string[] = [];
    for await (const execution of client.workflow.list({ query, pageSize: 1000 })) {
      stragglers.push(execution.workflowId);
      if (stragglers.length >= 10_000) break;
    }
    if (stragglers.length === 0) return 0;
    await Promise.all(stragglers.map((id) => terminate(id).catch(() => undefined)));
    await new Promise((resolve) => setTimeout(resolve, 1000)); // let visibility catch up
  }
  return (await client.workflow.count(query)).count;
}

const fmt = (value: number) => value.toFixed(2);
const ratioOf = (ours: Stats, base: Stats, key: StatKey) => Math.round((ours[key] / base[key]) * 100) / 100;

function table(rows: [string, string[]][], header: string[]): string {
  const width = Math.max(...rows.map(([label]) => label.length), 24);
  const line = (label: string, cells: string[]) =>
    `${label.padEnd(width)}${cells.map((cell) => cell.padStart(10)).join('')}`;
  return [line('', header), ...rows.map(([label, cells]) => line(label, cells))].join('\n');
}

function updateBenchmarksFile(section: string): void {
  const intro = [
    '# Benchmarks',
    '',
    'Figures below are measured on the machine described with each result, not promised for yours.',
    'Each section is rewritten by its script under `bench/`; run `npm run bench` to refresh them.',
    '',
  ].join('\n');
  const block = `${START_MARKER}\n${section}\n${END_MARKER}`;
  const current = existsSync(BENCHMARKS_FILE) ? readFileSync(BENCHMARKS_FILE, 'utf8') : `${intro}\n`;
  const start = current.indexOf(START_MARKER);
  const end = current.indexOf(END_MARKER);
  const next =
    start >= 0 && end > start
      ? `${current.slice(0, start)}${block}${current.slice(end + END_MARKER.length)}`
      : `${current.trimEnd()}\n\n## api-create\n\n${block}\n`;
  writeFileSync(BENCHMARKS_FILE, next);
}

async function main(): Promise<number> {
  const opts = options();
  const suffix = randomBytes(4).toString('hex');
  const cleanups: (() => Promise<unknown>)[] = [];
  const startedIds: string[] = [];
  let exitCode = 0;
  try {
    await adminQuery(`drop database if exists ${BENCH_DATABASE} with (force)`);
    await adminQuery(`create database ${BENCH_DATABASE}`);
    cleanups.push(() => adminQuery(`drop database if exists ${BENCH_DATABASE} with (force)`));
    await migratePostgres(databaseUrl(BENCH_DATABASE));

    let temporalAddress = process.env.TEMPORAL_ADDRESS;
    let temporalSource = `TEMPORAL_ADDRESS ${temporalAddress}`;
    if (!temporalAddress || !(await temporalReachable(temporalAddress))) {
      const server = await startTemporalDevServer({
        root: ROOT,
        port: DEV_SERVER_PORT,
        logFile: path.join(ROOT, '.data', 'bench', 'temporal.log'),
        namespace: 'default',
      });
      cleanups.push(() => server.stop());
      temporalAddress = server.address;
      temporalSource = 'dev server started by the bench, in-memory SQLite';
    }

    const config = parseConfig({
      ...process.env,
      NODE_ENV: 'production',
      LOG_LEVEL: 'silent',
      DATABASE_URL: databaseUrl(BENCH_DATABASE),
      DATABASE_READ_URL: undefined,
      REDIS_URL: TEST_REDIS_URL,
      TEMPORAL_ADDRESS: temporalAddress,
      CONTROL_TASK_QUEUE: `rpa-control-bench-${suffix}`,
    });
    const logger = createLogger(config, 'bench');
    const database = await createDatabase(config);
    cleanups.push(() => database.close());
    const cache = createStatusCache({
      redisUrl: config.REDIS_URL,
      ttlSeconds: config.CACHE_STATUS_TTL_SECONDS,
    });
    cleanups.push(() => cache.close());
    const connection = await Connection.connect({
      ...temporalConnectionOptions(config),
      connectTimeout: '5 seconds',
    });
    cleanups.push(() => connection.close());
    const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
    // Runs before the connection closes (cleanups run last-in first-out).
    cleanups.push(async () => {
      const left = await terminateAll(client, config.CONTROL_TASK_QUEUE, startedIds);
      if (left > 0) console.error(`warning: ${left} workflows still running on ${config.CONTROL_TASK_QUEUE}`);
    });
    const { serverVersion } = await connection.workflowService.getSystemInfo({});

    const app = createApp({ config, logger, database, cache, temporal: client });
    const server = await new Promise<http.Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
    cleanups.push(async () => {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const address = server.address();
    const endpoint = new URL(
      `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/v1/robots`,
    );

    const definition = findBuiltInRobotType('demo');
    if (!definition) throw new Error('built-in robot type "demo" is missing');
    const input = { text: 'bench' };
    const api = async () => {
      const res = await postJson(agent, endpoint, BODY);
      if (res.status < 200 || res.status > 299)
        throw new Error(`HTTP ${res.status}: ${res.text.slice(0, 200)}`);
      startedIds.push((JSON.parse(res.text) as { robotId: string }).robotId);
    };
    // The same start the API makes (api/robots.service.ts), minus the row insert and the HTTP hop.
    const baseline = async () => {
      const workflowId = randomUUID();
      const args: RobotWorkflowInput = {
        robotId: workflowId,
        definition,
        input,
        priority: 'normal',
        moduleWaitSeconds: config.MODULE_WAIT_SECONDS,
      };
      await client.workflow.start(ROBOT_WORKFLOW, {
        workflowId,
        taskQueue: config.CONTROL_TASK_QUEUE,
        args: [args],
        priority: { priorityKey: 3 },
        typedSearchAttributes: [
          { key: RobotTypeKey, value: definition.name },
          { key: RobotStatusKey, value: 'queued' },
          { key: RobotPriorityKey, value: 'normal' },
        ],
        memo: {
          robotType: definition.name,
          robotTypeVersion: definition.version,
          priority: 'normal',
          summary: `${definition.name} robot (${definition.steps.length} steps)`,
        },
      });
      startedIds.push(workflowId);
    };

    const warm = [
      await measure(opts.warmup, opts.concurrency, api),
      await measure(opts.warmup, opts.concurrency, baseline),
    ];
    const apiSamples: Sample[] = [];
    const baseSamples: Sample[] = [];
    for (let block = 0; block < opts.blocks && !aborted; block += 1) {
      const size = Math.floor(opts.requests / opts.blocks) + (block < opts.requests % opts.blocks ? 1 : 0);
      // ABBA order: neither side always runs on the warmer (or noisier) half of a block pair.
      const order = block % 2 === 0 ? ['api', 'base'] : ['base', 'api'];
      for (const side of order) {
        if (side === 'api') apiSamples.push(await measure(size, opts.concurrency, api));
        else baseSamples.push(await measure(size, opts.concurrency, baseline));
      }
    }
    if (aborted) throw new Error('interrupted');

    const ours = summarize(merge(apiSamples));
    const base = summarize(merge(baseSamples));
    const ratio = Object.fromEntries(STAT_KEYS.map((key) => [key, ratioOf(ours, base, key)])) as Record<
      StatKey,
      number
    >;
    const errors = [...warm, ...apiSamples, ...baseSamples].flatMap((s) => s.errors);
    const goalMet = ratio.p50 <= GOAL.ratio && ratio.p99 <= GOAL.ratio && ours.p99 <= GOAL.p99Ms;
    const cpu = os.cpus();
    const machine = {
      cpu: cpu[0]?.model.trim() ?? 'unknown',
      cores: cpu.length,
      memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      temporalServer: serverVersion || 'unknown',
      temporal: temporalSource,
    };
    const date = new Date().toISOString();

    const header = [...STAT_KEYS.map((key) => `${key} ms`), 'req/s'];
    const cells = (s: Stats) => [...STAT_KEYS.map((key) => fmt(s[key])), String(s.opsPerSecond)];
    const ratioCells = [
      ...STAT_KEYS.map((key) => fmt(ratio[key])),
      fmt(ours.opsPerSecond / base.opsPerSecond),
    ];
    console.log(
      `\napi-create: ${opts.requests} requests per side (after ${opts.warmup} warm-up), concurrency ${opts.concurrency}, ${opts.blocks} interleaved blocks`,
    );
    console.log(
      `${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, Temporal ${machine.temporalServer}\n`,
    );
    console.log(
      table(
        [
          ['POST /v1/robots', cells(ours)],
          ['client.workflow.start', cells(base)],
          ['ratio (ours / baseline)', ratioCells],
        ],
        header,
      ),
    );
    console.log(
      `\ngoal: ratio ≤ ${GOAL.ratio} and p99 ≤ ${GOAL.p99Ms} ms (not yet a gate): ${goalMet ? 'met' : 'not met'}`,
    );
    if (errors.length > 0) {
      exitCode = 1;
      const distinct = [...new Set(errors)].slice(0, 5);
      console.error(`\n${errors.length} errors, e.g.:\n  ${distinct.join('\n  ')}`);
    }

    mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
    const result = {
      date,
      machine,
      options: opts,
      api: ours,
      baseline: base,
      ratio,
      goal: { ...GOAL, met: goalMet },
      errors: errors.length,
    };
    writeFileSync(RESULTS_FILE, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`\nresults written to ${path.relative(process.cwd(), RESULTS_FILE)}`);
    if (errors.length === 0) {
      const row = (label: string, s: Stats) => `| ${label} | ${cells(s).join(' | ')} |`;
      updateBenchmarksFile(
        [
          `Measured ${date} on ${machine.cpu} (${machine.cores} cores, ${machine.memoryGiB} GiB RAM, ${machine.os}),`,
          `Node ${machine.node}, Temporal server ${machine.temporalServer} (${machine.temporal}).`,
          '',
          `${opts.requests} requests per side after ${opts.warmup} warm-up, concurrency ${opts.concurrency}, in ${opts.blocks}`,
          'interleaved blocks, loopback, no worker running (start path only).',
          '',
          `| path | ${header.join(' | ')} |`,
          `| --- | ${header.map(() => '---:').join(' | ')} |`,
          row('`POST /v1/robots` (ours)', ours),
          row('`client.workflow.start` (baseline)', base),
          `| ratio (ours / baseline) | ${ratioCells.join(' | ')} |`,
          '',
          `Goal: ratio ≤ ${GOAL.ratio} and p99 ≤ ${GOAL.p99Ms} ms (goal, not yet a gate). This run: p50 ratio ${fmt(ratio.p50)},`,
          `p99 ratio ${fmt(ratio.p99)}, p99 ${fmt(ours.p99)} ms: ${goalMet ? 'met' : 'not met'}.`,
        ].join('\n'),
      );
      console.log(`${path.relative(process.cwd(), BENCHMARKS_FILE)} updated`);
    }
  } catch (err) {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    exitCode = 1;
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((err: unknown) => {
        console.error(`cleanup failed: ${err instanceof Error ? err.message : String(err)}`);
        exitCode = 1;
      });
    }
  }
  return exitCode;
}

process.once('SIGINT', () => {
  aborted = true; // in-flight operations finish, then everything started is cleaned up
  process.once('SIGINT', () => process.exit(130));
});

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);

// Latency of `POST /v1/robots` against a raw `client.workflow.start` of the same workflow, measured
// in the same run with the same loop, in interleaved blocks so machine noise hits both sides alike.
// The API is the real `rpa api` in a process of its own; the request loop (the generator) and the
// baseline's starts run in the bench process. No worker runs: only the start path is measured,
// workflows stay queued and are terminated at the end.
// Usage: npm run bench:create -- [--requests N] [--concurrency C] [--warmup W] [--blocks B] [--smoke] [--out FILE]
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { createBuiltInRobotTypes } from '../core/domain/robot-types';
import { ROBOT_WORKFLOW, robotStartOptions, robotWorkflowArgs } from '../core/domain/robot-workflow.contract';
import { startApiProcess } from './bench-processes';
import * as bench from './bench-support';

const NAME = 'api-create';
const BENCH_DATABASE = 'rpa_bench';
const GOAL = { ratio: 1.3, p99Ms: 20 };
const BODY = JSON.stringify({ type: 'demo', input: { text: 'bench' } });

/** A POST over a keep-alive agent with at most `concurrency` sockets: the same pacing as the baseline. */
function postJson(
  agent: http.Agent,
  url: URL,
  body: string,
  authorization: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization,
        },
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

const fmt = (value: number) => value.toFixed(2);
const ratioOf = (ours: bench.Stats, base: bench.Stats, key: bench.StatKey) =>
  Math.round((ours[key] / base[key]) * 100) / 100;

async function main(defer: bench.Defer): Promise<number> {
  const { opts, mode } = bench.benchOptions(
    { requests: 2000, concurrency: 16, warmup: 100, blocks: 4 },
    { requests: 24, concurrency: 4, warmup: 4, blocks: 2 },
  );
  const { config, temporal } = await bench.benchEnvironment(BENCH_DATABASE, mode, defer, true);
  const startedIds: string[] = [];
  const { connection, client, authorization } = await bench.apiDependencies(config, defer);
  // Runs before the connection closes (cleanups run last-in first-out).
  defer(async () => {
    const left = await bench.terminateAll(client, config.CONTROL_TASK_QUEUE, startedIds);
    if (left > 0) console.error(`warning: ${left} workflows still running on ${config.CONTROL_TASK_QUEUE}`);
  });
  const machine = await bench.describeMachine(connection, temporal);

  const { url } = await startApiProcess(NAME, config, mode, defer);
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
  defer(async () => agent.destroy());
  const endpoint = new URL(`${url}/v1/robots`);
  const definition = createBuiltInRobotTypes().find('demo');
  if (!definition) throw new Error('built-in robot type "demo" is missing');
  const input = { text: 'bench' };
  const api = async () => {
    const res = await postJson(agent, endpoint, BODY, authorization);
    if (res.status < 200 || res.status > 299)
      throw new Error(`HTTP ${res.status}: ${res.text.slice(0, 200)}`);
    startedIds.push((JSON.parse(res.text) as { robotId: string }).robotId);
  };
  // The same start the API makes (api/robots.service.ts), minus the row insert and the HTTP hop.
  const baseline = async () => {
    const workflowId = randomUUID();
    const args = robotWorkflowArgs({ config, robotId: workflowId, definition, input, priority: 'normal' });
    await client.workflow.start(ROBOT_WORKFLOW, robotStartOptions(args, config.CONTROL_TASK_QUEUE));
    startedIds.push(workflowId);
  };

  const warm = [
    await bench.measure(opts.warmup, opts.concurrency, api),
    await bench.measure(opts.warmup, opts.concurrency, baseline),
  ];
  const apiSamples: bench.Sample[] = [];
  const baseSamples: bench.Sample[] = [];
  for (let block = 0; block < opts.blocks && !bench.interruption.aborted; block += 1) {
    const size = Math.floor(opts.requests / opts.blocks) + (block < opts.requests % opts.blocks ? 1 : 0);
    // ABBA order: neither side always runs on the warmer (or noisier) half of a block pair.
    const order = block % 2 === 0 ? ['api', 'base'] : ['base', 'api'];
    for (const side of order) {
      if (side === 'api') apiSamples.push(await bench.measure(size, opts.concurrency, api));
      else baseSamples.push(await bench.measure(size, opts.concurrency, baseline));
    }
  }
  bench.throwIfInterrupted();

  const ours = bench.summarize(bench.merge(apiSamples));
  const base = bench.summarize(bench.merge(baseSamples));
  const ratio = Object.fromEntries(bench.STAT_KEYS.map((key) => [key, ratioOf(ours, base, key)])) as Record<
    bench.StatKey,
    number
  >;
  const errors = [...warm, ...apiSamples, ...baseSamples].flatMap((s) => s.errors);
  const goalMet = ratio.p50 <= GOAL.ratio && ratio.p99 <= GOAL.ratio && ours.p99 <= GOAL.p99Ms;
  const date = new Date().toISOString();

  const header = [...bench.STAT_KEYS.map((key) => `${key} ms`), 'req/s'];
  const cells = (s: bench.Stats) => [...bench.STAT_KEYS.map((key) => fmt(s[key])), String(s.opsPerSecond)];
  const ratioCells = [
    ...bench.STAT_KEYS.map((key) => fmt(ratio[key])),
    fmt(ours.opsPerSecond / base.opsPerSecond),
  ];
  console.log(
    `\napi-create: ${opts.requests} requests per side (after ${opts.warmup} warm-up), concurrency ${opts.concurrency}, ${opts.blocks} interleaved blocks`,
  );
  console.log(`${bench.machineSummary(machine)}\n`);
  console.log(
    bench.table(
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

  return bench.publish(
    NAME,
    mode,
    errors,
    {
      date,
      machine,
      options: opts,
      api: ours,
      baseline: base,
      ratio,
      goal: { ...GOAL, met: goalMet },
    },
    [
      ...bench.measuredOn(date, machine),
      '',
      `${opts.requests} requests per side after ${opts.warmup} warm-up, concurrency ${opts.concurrency}, in ${opts.blocks}`,
      'interleaved blocks, loopback, no worker running (start path only); the API (`rpa api`, LOG_LEVEL warn) in a process',
      'of its own, the request loop and the baseline in the bench process.',
      '',
      ...bench.markdownTable(
        ['path', ...header],
        [
          ['`POST /v1/robots` (ours)', cells(ours)],
          ['`client.workflow.start` (baseline)', cells(base)],
          ['ratio (ours / baseline)', ratioCells],
        ],
      ),
      '',
      `Goal: ratio ≤ ${GOAL.ratio} and p99 ≤ ${GOAL.p99Ms} ms (goal, not yet a gate). This run: p50 ratio ${fmt(ratio.p50)},`,
      `p99 ratio ${fmt(ratio.p99)}, p99 ${fmt(ours.p99)} ms: ${goalMet ? 'met' : 'not met'}.`,
    ],
  );
}

bench.runBench(main);

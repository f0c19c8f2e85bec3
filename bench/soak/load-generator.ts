// The soak's load generator, a process of its own (so its CPU and memory are not the measured
// processes'): creates robots through the API at a target rate, the way a careful client does
// (docs/api.md, as the chaos workload does): one Idempotency-Key per robot, the same on every retry,
// retrying refused connections, timeouts, 408, 429 and 5xx with backoff across the API processes.
// Prints one line per robot created (`created {json}`), then `done {json}`; exits 1 when a robot
// could not be created in time.
import { setTimeout as sleep } from 'node:timers/promises';
import { createWithRetries } from '../../test/chaos/support/careful-client';
import { kindOf, robotBody } from './robot-mix';

export interface LoadPlan {
  apiUrls: string[];
  apiKey: string;
  robots: number;
  /** Robots per second asked for. */
  rate: number;
  keyPrefix: string;
  holdMs: number;
  /** Requests in flight at most: past it the generator falls behind its schedule (reported as lag). */
  maxInFlight: number;
  giveUpMs: number;
}

export interface LoadSummary {
  created: number;
  /** Requests beyond the first per robot (refusals, timeouts, 5xx). */
  retries: number;
  durationMs: number;
  achievedRate: number;
  /** How late the last robot was started against its schedule. */
  maxLagMs: number;
  createMs: { p50: number; p99: number; max: number };
}

function createOne(plan: LoadPlan, index: number): Promise<{ robotId: string; attempts: number }> {
  return createWithRetries({
    apiUrls: plan.apiUrls,
    apiKey: plan.apiKey,
    key: `${plan.keyPrefix}-${index}`,
    body: robotBody(index, plan.holdMs),
    firstApi: index,
    giveUpMs: plan.giveUpMs,
  });
}

export async function generateLoad(
  plan: LoadPlan,
  onCreated: (line: { key: string; robotId: string; kind: string }) => void,
): Promise<LoadSummary> {
  const started = Date.now();
  const latencies: number[] = [];
  const inFlight = new Set<Promise<void>>();
  let retries = 0;
  let maxLagMs = 0;
  let failure: Error | null = null;
  for (let index = 0; index < plan.robots && !failure; index++) {
    const due = started + (index * 1000) / plan.rate;
    if (due > Date.now()) await sleep(due - Date.now());
    while (inFlight.size >= plan.maxInFlight) await Promise.race(inFlight);
    maxLagMs = Math.max(maxLagMs, Date.now() - due);
    const requested = Date.now();
    const request = createOne(plan, index)
      .then(({ robotId, attempts }) => {
        latencies.push(Date.now() - requested);
        retries += attempts - 1;
        onCreated({ key: `${plan.keyPrefix}-${index}`, robotId, kind: kindOf(index) });
      })
      .catch((err: unknown) => {
        failure = err instanceof Error ? err : new Error(String(err));
      })
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  }
  await Promise.all(inFlight);
  if (failure) throw failure;
  const durationMs = Date.now() - started;
  const sorted = latencies.sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
  return {
    created: latencies.length,
    retries,
    durationMs,
    achievedRate: Math.round((latencies.length / Math.max(1, durationMs)) * 1000 * 100) / 100,
    maxLagMs,
    createMs: { p50: at(50), p99: at(99), max: sorted.at(-1) ?? 0 },
  };
}

if (require.main === module) {
  const plan = JSON.parse(process.env.SOAK_LOAD_PLAN ?? '') as LoadPlan;
  generateLoad(plan, (line) => process.stdout.write(`created ${JSON.stringify(line)}\n`))
    .then((summary) => {
      process.stdout.write(`done ${JSON.stringify(summary)}\n`);
    })
    .catch((err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    });
}

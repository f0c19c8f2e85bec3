import { setTimeout as sleep } from 'node:timers/promises';
import type { ChaosCluster } from './cluster';

// The clients of a chaos scenario: they create robots through the API the way a careful client
// does (docs/api.md): one Idempotency-Key per robot, the same on every retry, retrying refused
// connections, timeouts and 5xx answers with backoff, across the API processes.

export const CHAOS_TYPE = 'chaos-mixed';

export interface CreatedRobot {
  key: string;
  robotId: string;
}

/**
 * A hold (noop, so a fault lands mid-step), the custom step `chaos.record` on an SDK module, a
 * webhook (http-request, one Idempotency-Key per robot and step) and, when `email`, one email.
 */
export interface ChaosTypeOptions {
  email: boolean;
  /** Where the webhook step posts (default the receiver's loopback URL): e.g. a forwarder every host reaches. */
  hookUrl?: string;
}

export function chaosRobotType(cluster: ChaosCluster, options: ChaosTypeOptions) {
  return {
    name: CHAOS_TYPE,
    description: 'chaos scenarios: hold, custom step, webhook, email',
    steps: [
      { name: 'hold', kind: 'noop' },
      { name: 'record', kind: 'chaos.record', timeoutSeconds: 30 },
      {
        name: 'hook',
        kind: 'http-request',
        timeoutSeconds: 30,
        params: {
          method: 'POST',
          url: options.hookUrl ?? `${cluster.hooks.url}/hook`,
          body: { robotId: '{{robotId}}' },
        },
      },
      ...(options.email
        ? [
            {
              name: 'mail',
              kind: 'send-email',
              timeoutSeconds: 60,
              params: {
                to: 'ops@example.test',
                subject: 'chaos {{robotId}}',
                text: 'robot {{robotId}} done',
              },
            },
          ]
        : []),
    ],
  };
}

export async function applyChaosType(cluster: ChaosCluster, options: ChaosTypeOptions): Promise<void> {
  const res = await cluster.api('/v1/robot-types', {
    method: 'POST',
    json: chaosRobotType(cluster, options),
  });
  if (res.status !== 201) throw new Error(`robot type refused: ${res.status} ${await res.text()}`);
}

export interface CreateOptions {
  count: number;
  concurrency: number;
  /** Idempotency-Key prefix: one scenario's keys never meet another's. */
  keyPrefix: string;
  holdMs: number;
  /** Give up on one robot after this long of refusals (the test then fails: a client could not create it). */
  giveUpMs?: number;
  /** Clients stop creating once this is true (`count` is then a maximum). */
  stopWhen?: () => boolean;
  /** Each client waits this long between its robots: a steady stream instead of one burst. */
  paceMs?: number;
  /** Called after each robot is created (a scenario paces its faults by it). */
  onCreated?: (created: CreatedRobot, index: number) => void;
  /** The API process every robot's first attempt goes to (default: round-robin by robot). */
  firstApi?: number;
  /** Called as each attempt is sent; the function it returns hears how the attempt ended. */
  onAttempt?: (url: string, key: string) => (outcome: AttemptOutcome) => void;
}

/** `answered`: an HTTP answer of any status; `failed`: no answer (refused, reset, timed out). */
export type AttemptOutcome = 'answered' | 'failed';

/** Creates `count` robots, `concurrency` at a time; resolves with each robot's key and id. */
export async function createRobots(cluster: ChaosCluster, options: CreateOptions): Promise<CreatedRobot[]> {
  const created: CreatedRobot[] = [];
  let next = 0;
  const client = async () => {
    for (;;) {
      if (options.stopWhen?.()) return;
      const index = next++;
      if (index >= options.count) return;
      const key = `${options.keyPrefix}-${index}`;
      const robot = { key, robotId: await createOne(cluster, key, options, index) };
      created.push(robot);
      options.onCreated?.(robot, index);
      if (options.paceMs) await sleep(options.paceMs);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, client));
  return created;
}

async function createOne(
  cluster: ChaosCluster,
  key: string,
  options: CreateOptions,
  index: number,
): Promise<string> {
  const deadline = Date.now() + (options.giveUpMs ?? 180_000);
  let lastProblem = '';
  for (let attempt = 0; ; attempt++) {
    const url = cluster.apiUrls[((options.firstApi ?? index) + attempt) % cluster.apiUrls.length] ?? '';
    const ended = options.onAttempt?.(url, key);
    try {
      const res = await fetch(`${url}/v1/robots`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${cluster.adminKey}`,
          'content-type': 'application/json',
          'idempotency-key': key,
        },
        body: JSON.stringify({ type: CHAOS_TYPE, input: { holdMs: options.holdMs, n: index } }),
        signal: AbortSignal.timeout(15_000),
      }).catch((err: unknown) => {
        ended?.('failed');
        throw err;
      });
      ended?.('answered');
      const body = (await res.json().catch(() => ({}))) as { robotId?: string };
      if ((res.status === 201 || res.status === 200) && body.robotId) return body.robotId;
      lastProblem = `${res.status} ${JSON.stringify(body)}`;
      if (res.status < 500 && res.status !== 429 && res.status !== 408) {
        throw new Error(`robot ${key} refused for good: ${lastProblem}`);
      }
    } catch (err) {
      if (err instanceof Error && err.message.startsWith(`robot ${key} refused`)) throw err;
      lastProblem = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    if (Date.now() > deadline) throw new Error(`robot ${key} not created in time; last: ${lastProblem}`);
    await sleep(Math.min(1000, 100 * 2 ** Math.min(attempt, 4)));
  }
}

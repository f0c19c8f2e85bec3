import { setTimeout as sleep } from 'node:timers/promises';
import { createWithRetries } from './careful-client';
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
  const created = await createWithRetries({
    apiUrls: cluster.apiUrls,
    apiKey: cluster.adminKey,
    key,
    body: { type: CHAOS_TYPE, input: { holdMs: options.holdMs, n: index } },
    firstApi: options.firstApi ?? index,
    giveUpMs: options.giveUpMs ?? 180_000,
    ...(options.onAttempt ? { onAttempt: options.onAttempt } : {}),
  });
  return created.robotId;
}

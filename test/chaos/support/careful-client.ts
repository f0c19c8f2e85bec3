import { setTimeout as sleep } from 'node:timers/promises';

// POST /v1/robots as docs/api.md tells a careful client to: one Idempotency-Key per robot, the same
// on every retry; refused connections, timeouts, 408, 429 and 5xx retried with backoff, each retry
// at the next API process; any other answer is final. Shared by the chaos workload and the soak's
// load generator (a process of its own).

export interface CarefulCreate {
  apiUrls: readonly string[];
  apiKey: string;
  key: string;
  body: unknown;
  /** The API process (index into apiUrls) the first try goes to. */
  firstApi: number;
  giveUpMs: number;
  /** Told when an attempt is sent; what it returns is told how the attempt ended. */
  onAttempt?: (url: string, key: string) => ((outcome: 'answered' | 'failed') => void) | undefined;
}

export async function createWithRetries(
  create: CarefulCreate,
): Promise<{ robotId: string; attempts: number }> {
  const { apiUrls, key } = create;
  const deadline = Date.now() + create.giveUpMs;
  let lastProblem = '';
  for (let attempt = 0; ; attempt++) {
    const url = apiUrls[(create.firstApi + attempt) % apiUrls.length] ?? '';
    const ended = create.onAttempt?.(url, key);
    try {
      const res = await fetch(`${url}/v1/robots`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${create.apiKey}`,
          'content-type': 'application/json',
          'idempotency-key': key,
        },
        body: JSON.stringify(create.body),
        signal: AbortSignal.timeout(15_000),
      }).catch((err: unknown) => {
        ended?.('failed');
        throw err;
      });
      ended?.('answered');
      const answer = (await res.json().catch(() => ({}))) as { robotId?: string };
      if ((res.status === 201 || res.status === 200) && answer.robotId) {
        return { robotId: answer.robotId, attempts: attempt + 1 };
      }
      lastProblem = `${res.status} ${JSON.stringify(answer)}`;
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

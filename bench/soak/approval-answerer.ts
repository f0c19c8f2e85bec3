import { setTimeout as sleep } from 'node:timers/promises';
import type { ChaosCluster } from '../../test/chaos/support/cluster';

// The person at the approvals inbox, automated: reads GET /v1/approvals page by page and approves
// each waiting robot once through POST /v1/robots/:id/approve. A robot whose approval was accepted
// is never sent another one, even while its row still shows it waiting (the update is in flight).

interface ApprovalItem {
  robotId: string;
  waitingSince: string | null;
}

export interface AnswererStats {
  approved: number;
  /** Approvals the API refused (409: not waiting any more) or failed; each is tried again. */
  refused: number;
  errors: number;
  /** A few of the refusals' messages, distinct. */
  refusals: string[];
  /** From the robot's wait beginning to its approval being accepted. */
  waitMs: { p50: number; max: number };
}

export interface ApprovalAnswerer {
  approved: Set<string>;
  stop(): Promise<AnswererStats>;
}

export function startApprovalAnswerer(cluster: ChaosCluster, intervalMs: number): ApprovalAnswerer {
  const approved = new Set<string>();
  const waits: number[] = [];
  let refused = 0;
  const refusals = new Set<string>();
  let errors = 0;
  let stopped = false;

  const approve = async (item: ApprovalItem) => {
    // One key per robot's approval: a repeat after a lost answer (503) gets the first answer.
    const send = () =>
      cluster.api(`/v1/robots/${item.robotId}/approve`, {
        method: 'POST',
        headers: { 'idempotency-key': `soak-approve-${item.robotId}` },
        json: { comment: 'approved by the soak' },
      });
    let res = await send();
    for (let tries = 1; res.status === 503 && tries < 5; tries++) {
      refused += 1;
      if (refusals.size < 5) refusals.add('503 (repeated with the same Idempotency-Key)');
      await res.body?.cancel().catch(() => undefined);
      await sleep(500);
      res = await send();
    }
    if (res.status === 202) {
      approved.add(item.robotId);
      // An item listed before its wait was recorded has no waitingSince: no wait to count.
      const since = Date.parse(item.waitingSince ?? '');
      if (Number.isFinite(since)) waits.push(Date.now() - since);
    } else {
      refused += 1;
      const body = (await res.json().catch(() => ({}))) as { message?: string };
      if (refusals.size < 5) refusals.add(`${res.status} ${body.message ?? ''}`.trim());
    }
    await res.body?.cancel().catch(() => undefined);
  };

  const pass = async () => {
    let cursor: string | undefined;
    do {
      const query = `limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await cluster.api(`/v1/approvals?${query}`);
      if (res.status !== 200) throw new Error(`GET /v1/approvals: ${res.status}`);
      const page = (await res.json()) as { items: ApprovalItem[]; nextCursor: string | null };
      const waiting = page.items.filter((item) => !approved.has(item.robotId));
      for (let i = 0; i < waiting.length; i += 8) {
        await Promise.all(waiting.slice(i, i + 8).map((item) => approve(item)));
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor && !stopped);
  };

  const loop = (async () => {
    while (!stopped) {
      await pass().catch(() => {
        errors += 1;
      });
      await sleep(intervalMs);
    }
  })();

  return {
    approved,
    async stop() {
      stopped = true;
      await loop;
      const sorted = waits.sort((a, b) => a - b);
      return {
        approved: approved.size,
        refused,
        errors,
        refusals: [...refusals],
        waitMs: { p50: sorted[Math.floor((sorted.length - 1) / 2)] ?? 0, max: sorted.at(-1) ?? 0 },
      };
    },
  };
}

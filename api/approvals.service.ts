import { type ApprovalWait, type RobotStatus, WAITING_FOR_PEOPLE } from '../core/domain/robot';
import { readStepDetails } from '../core/domain/step-details';
import type { DatabaseGuard } from '../db/database-guard';
import type { ExecutionsRepository } from '../db/executions.repository';
import type { RobotsRepository } from '../db/robots.repository';
import { cursorAfter, keysetPage } from './cursor';
import type { ListApprovalsQuery } from './schemas';

/** One robot waiting for a person: what the reviewer needs to decide. */
export interface ApprovalItem {
  robotId: string;
  type: string;
  status: RobotStatus;
  /** `sla-missed`: the robot passed its deadline and waits for a person before `step` (docs/sla.md). */
  reason: 'approval-step' | 'sla-missed';
  step: string | null;
  waitingSince: string | null;
  deadline: string | null;
  escalated: boolean;
  data: ApprovalWait['data'] | null;
  links: { self: string; approve: string; reject: string };
}

/** The approvals inbox: robots waiting at an approval step, newest first, with a keyset cursor. */
export class ApprovalsService {
  constructor(
    private readonly deps: {
      robots: RobotsRepository;
      executions: ExecutionsRepository;
      guard: DatabaseGuard;
    },
  ) {}

  async list(query: ListApprovalsQuery): Promise<{ items: ApprovalItem[]; nextCursor: string | null }> {
    const { robots, executions, guard } = this.deps;
    const rows = await guard.run(() =>
      robots.list({
        statuses: [...WAITING_FOR_PEOPLE],
        limit: query.limit + 1,
        after: cursorAfter(query.cursor),
      }),
    );
    const { page, nextCursor } = keysetPage(rows, query.limit, (row) => ({
      at: row.createdAt,
      id: row.robotId,
    }));
    const items = await Promise.all(
      page.map(async (row): Promise<ApprovalItem> => {
        const execution = await guard.run(() => executions.latestForRobot(row.robotId));
        const { approval } = readStepDetails(execution?.stepDetails);
        const self = `/v1/robots/${row.robotId}`;
        return {
          robotId: row.robotId,
          type: row.robotType,
          status: row.status,
          reason: approval?.reason ?? 'approval-step',
          step: approval?.step ?? null,
          waitingSince: approval?.since ?? null,
          deadline: approval?.deadline ?? null,
          escalated: approval?.escalated ?? row.status === 'escalated',
          data: approval?.data ?? null,
          links: { self, approve: `${self}/approve`, reject: `${self}/reject` },
        };
      }),
    );
    return { items, nextCursor };
  }
}

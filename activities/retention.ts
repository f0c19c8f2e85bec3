import type { Config } from '../core/config';
import type { DocumentStore } from '../core/domain/document-store';
import { type RetentionPolicy, retentionPolicy } from '../core/domain/retention';
import type { RobotTypeDefinition } from '../core/domain/robot-types';
import type { Logger } from '../core/observability/logger';
import { retentionPurged } from '../core/observability/metrics';
import type { PurgedRobots, RetentionRepository } from '../db/retention.repository';

export interface RetentionDeps {
  config: Pick<Config, 'ROBOT_RETENTION_DAYS' | 'DOCUMENT_ORPHAN_GRACE_HOURS' | 'RETENTION_BATCH_SIZE'>;
  retention: Pick<RetentionRepository, 'purgeFinishedRobots' | 'purgeOrphanDocuments' | 'unreferencedHashes'>;
  documentStore: Pick<DocumentStore, 'remove'>;
  /** Every robot type in use: the built-in ones and the newest version of each registered one. */
  robotTypes: () => Promise<readonly Pick<RobotTypeDefinition, 'name' | 'retentionDays'>[]>;
  logger: Logger;
}

/** Statements per cleanup run: a backlog (retention just enabled or shortened) drains over a few runs. */
const BATCHES_PER_RUN = 20;

async function purgeRobots(deps: RetentionDeps, policy: RetentionPolicy): Promise<PurgedRobots> {
  const total: PurgedRobots = { robots: 0, executions: 0, archivedExecutions: 0, sentEmails: 0 };
  for (let batch = 0; batch < BATCHES_PER_RUN; batch++) {
    const purged = await deps.retention.purgeFinishedRobots(policy, deps.config.RETENTION_BATCH_SIZE);
    retentionPurged.inc({ kind: 'robots' }, purged.robots);
    retentionPurged.inc({ kind: 'executions' }, purged.executions);
    retentionPurged.inc({ kind: 'archived_executions' }, purged.archivedExecutions);
    retentionPurged.inc({ kind: 'sent_emails' }, purged.sentEmails);
    total.robots += purged.robots;
    total.executions += purged.executions;
    total.archivedExecutions += purged.archivedExecutions;
    total.sentEmails += purged.sentEmails;
    if (purged.robots < deps.config.RETENTION_BATCH_SIZE) break;
  }
  return total;
}

/**
 * Rows first, then bytes, so bytes are never removed while a row names them. A crash in between
 * leaves at most one batch of files that no row names (the next run does not see them).
 */
async function purgeDocuments(deps: RetentionDeps): Promise<{ documents: number; documentFiles: number }> {
  const { config, retention, documentStore } = deps;
  let documents = 0;
  let documentFiles = 0;
  for (let batch = 0; batch < BATCHES_PER_RUN; batch++) {
    const removed = await retention.purgeOrphanDocuments(
      config.DOCUMENT_ORPHAN_GRACE_HOURS,
      config.RETENTION_BATCH_SIZE,
    );
    documents += removed.length;
    retentionPurged.inc({ kind: 'documents' }, removed.length);
    const graceStart = new Date(Date.now() - config.DOCUMENT_ORPHAN_GRACE_HOURS * 3_600_000);
    for (const sha256 of await retention.unreferencedHashes(removed.map((row) => row.sha256))) {
      if (await documentStore.remove(sha256, graceStart)) {
        documentFiles += 1;
        retentionPurged.inc({ kind: 'document_files' });
      }
    }
    if (removed.length < config.RETENTION_BATCH_SIZE) break;
  }
  return { documents, documentFiles };
}

/** The cleanup's retention activity. Idempotent: a second run finds nothing more past its time. */
export function createRetentionActivities(deps: RetentionDeps) {
  return {
    async purgeExpired() {
      const policy = retentionPolicy(await deps.robotTypes(), deps.config.ROBOT_RETENTION_DAYS);
      const robots = await purgeRobots(deps, policy);
      // After the robots: documents only they named are orphans now.
      const documents = await purgeDocuments(deps);
      const purged = { ...robots, ...documents };
      if (Object.values(purged).some((n) => n > 0)) deps.logger.info({ purged }, 'retention purged');
      return { purged };
    },
  };
}

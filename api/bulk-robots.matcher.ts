import { type Client, isGrpcServiceError, ServiceError } from '@temporalio/client';
import type { BulkFilter, BulkPage, BulkPageArgs } from '../core/domain/bulk-operation.contract';
import { ValidationError } from '../core/domain/errors';
import { ROBOT_WORKFLOW } from '../core/domain/robot-workflow.contract';
import type { RobotMatch, RobotsRepository } from '../db/robots.repository';
import { decodeCursor, encodeCursor } from './cursor';

// Which robots a bulk action matches (ADR 0049). Without a search attribute query Postgres answers
// (the robots rows, keyset pages on the listing's index); with one, Temporal's visibility does, the
// other conditions translated to search attributes. The API counts with it, the operation reads the
// ids with it: one meaning of a filter in both places.

const VISIBILITY_TOKEN = 'v:';

export interface BulkMatcherDeps {
  robots: Pick<RobotsRepository, 'countMatching' | 'pageMatching'>;
  temporal: Client;
  namespace: string;
  /** Robots' workflows run here: the query never reaches another deployment's workflows. */
  controlTaskQueue: string;
}

/** The caller's query, before it is put in parentheses: nothing that closes them or orders the list. */
export function checkVisibilityQuery(query: string): void {
  let depth = 0;
  let quote: string | null = null;
  let outside = '';
  for (const char of query) {
    if (quote) {
      if (char === quote) quote = null;
      continue;
    }
    if (char === "'" || char === '"' || char === '`') quote = char;
    else if (char === '(') depth += 1;
    else if (char === ')') depth -= 1;
    if (depth < 0) break;
    outside += char;
  }
  const refuse = (message: string) => {
    throw new ValidationError(`body.filter.query: ${message}`, {
      errors: [{ field: 'body.filter.query', message }],
    });
  };
  if (depth !== 0 || quote) refuse('unbalanced parentheses or quotes');
  if (/\border\s+by\b|\bgroup\s+by\b|;/i.test(outside)) refuse('a filter only: no ORDER BY, GROUP BY or ;');
}

export class BulkRobotMatcher {
  constructor(private readonly deps: BulkMatcherDeps) {}

  /** How many robots match. A query Temporal refuses is the caller's mistake: 400. */
  async count(filter: BulkFilter): Promise<number> {
    if (filter.query === undefined) return this.deps.robots.countMatching(rowMatch(filter));
    try {
      return (await this.deps.temporal.workflow.count(this.visibilityQuery(filter))).count;
    } catch (err) {
      throw refusedQuery(err) ?? err;
    }
  }

  async page({ filter, after, limit }: BulkPageArgs): Promise<BulkPage> {
    if (filter.query === undefined) {
      const rows = await this.deps.robots.pageMatching(
        rowMatch(filter),
        after ? decodeCursor(after) : undefined,
        limit,
      );
      const last = rows.at(-1);
      return {
        robotIds: rows.map((row) => row.robotId),
        next: rows.length === limit && last ? encodeCursor({ at: last.createdAt, id: last.robotId }) : null,
      };
    }
    const token = after?.startsWith(VISIBILITY_TOKEN)
      ? Buffer.from(after.slice(VISIBILITY_TOKEN.length), 'base64url')
      : undefined;
    const answer = await this.deps.temporal.workflowService.listWorkflowExecutions({
      namespace: this.deps.namespace,
      query: this.visibilityQuery(filter),
      pageSize: limit,
      ...(token ? { nextPageToken: token } : {}),
    });
    const next = answer.nextPageToken?.length
      ? `${VISIBILITY_TOKEN}${Buffer.from(answer.nextPageToken).toString('base64url')}`
      : null;
    const robotIds = (answer.executions ?? []).flatMap((run) =>
      run.execution?.workflowId ? [run.execution.workflowId] : [],
    );
    return { robotIds, next };
  }

  /** The filter as a visibility query: robots' workflows on this control queue, then the caller's. */
  visibilityQuery(filter: BulkFilter): string {
    // Values are checked by the API's schema (names, statuses, ISO times): no quotes inside.
    const terms = [
      `WorkflowType = '${ROBOT_WORKFLOW}'`,
      `TaskQueue = '${this.deps.controlTaskQueue}'`,
      `StartTime <= '${filter.createdTo}'`,
    ];
    if (filter.createdFrom) terms.push(`StartTime >= '${filter.createdFrom}'`);
    if (filter.status) terms.push(`RobotStatus = '${filter.status}'`);
    if (filter.type) terms.push(`RobotType = '${filter.type}'`);
    if (filter.module) terms.push(`ModuleName = '${filter.module}'`);
    if (filter.query !== undefined) terms.push(`(${filter.query})`);
    return terms.join(' AND ');
  }
}

function rowMatch(filter: BulkFilter): RobotMatch {
  return {
    status: filter.status,
    type: filter.type,
    module: filter.module,
    createdFrom: filter.createdFrom ? new Date(filter.createdFrom) : undefined,
    createdTo: new Date(filter.createdTo),
  };
}

function refusedQuery(err: unknown): ValidationError | null {
  const cause = err instanceof ServiceError ? err.cause : err;
  if (!isGrpcServiceError(cause) || cause.code !== 3) return null; // INVALID_ARGUMENT
  const message = `not a valid visibility query: ${cause.details || cause.message}`;
  return new ValidationError(`body.filter.query: ${message}`, {
    errors: [{ field: 'body.filter.query', message }],
  });
}

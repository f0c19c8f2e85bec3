import type { Request, RequestHandler, Response } from 'express';
import { auditActor } from '../../core/domain/audit-actor';
import type { Logger } from '../../core/observability/logger';
import { auditWriteFailures } from '../../core/observability/metrics';
import type { AuditRepository } from '../../db/audit.repository';
import { auditAction, isMutating, outcomeOf } from '../audit/audit-action';
import { authOf } from './authenticate';

interface AuditLocals {
  /**
   * Set by a route whose action or target the path does not tell. `recordedStatus`: the route wrote
   * this request's row itself, with its change and in its transaction, as it reads when the answer
   * has this status; with that answer the trail writes none (ADR 0042).
   */
  audit?: { action?: string; target?: string | null; recordedStatus?: number };
}

export function setAudit(res: Response, audit: AuditLocals['audit']): void {
  (res.locals as AuditLocals).audit = audit;
}

const REFUSALS = new Set([401, 403, 429]);

export interface AuditSink {
  audit: AuditRepository;
  logger: Logger;
  stats: { auditFailures: number };
}

/**
 * Appends the row of a finished answer (its address, request id, outcome and status with who did
 * what); off the response path: a failed write is logged and counted, never the caller's error.
 */
export function auditAnswer(
  { audit, logger, stats }: AuditSink,
  req: Request,
  res: Response,
  row: { keyId: string | null; actor: string; action: string; target: string | null },
  logFields: Record<string, unknown>,
): void {
  const requestId = res.getHeader('x-request-id');
  audit
    .insert({
      ...row,
      ip: req.ip ?? null,
      requestId: typeof requestId === 'string' ? requestId : null,
      outcome: outcomeOf(res.statusCode),
      status: res.statusCode,
    })
    .catch((err: unknown) => {
      stats.auditFailures += 1;
      auditWriteFailures.inc();
      logger.error({ err, ...logFields, status: res.statusCode }, 'audit log write failed');
    });
}

/**
 * Mount on /v1 before authentication. On `finish` it appends one row for every mutating request
 * and every refused one (401, 403, 429). The write is off the response path: a failed write is
 * logged and counted, never turned into an error for the caller.
 */
export function auditTrail(
  audit: AuditRepository,
  logger: Logger,
  stats: { auditFailures: number },
): RequestHandler {
  return (req, res, next) => {
    const method = req.method;
    const path = req.path;
    res.on('finish', () => {
      if (!isMutating(method) && !REFUSALS.has(res.statusCode)) return;
      const override = (res.locals as AuditLocals).audit;
      if (override?.recordedStatus === res.statusCode) return;
      const guessed = auditAction(method, path, String(res.getHeader('location') ?? ''));
      const keyId = authOf(res)?.id ?? null;
      auditAnswer(
        { audit, logger, stats },
        req,
        res,
        {
          keyId,
          actor: keyId ? auditActor.apiKey(keyId) : auditActor.anonymous,
          action: override?.action ?? guessed.action,
          target: override?.target !== undefined ? override.target : guessed.target,
        },
        { method, path },
      );
    });
    next();
  };
}

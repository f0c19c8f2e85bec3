import express, { type RequestHandler } from 'express';
import { ValidationError } from '../../core/domain/errors';
import { inspectJson } from '../../core/domain/json-inspect';
import { problem, sendProblem } from './problem';

/** What a JSON body may be: its size (BODY_LIMIT, like `100kb`) and its nesting (JSON_MAX_DEPTH). */
export interface JsonLimits {
  limit: string;
  maxDepth: number;
}

/** Refuses duplicate keys, `__proto__`/`constructor`/`prototype` keys and deep nesting (400). */
const verifyJson =
  (maxDepth: number) =>
  (_req: unknown, _res: unknown, buffer: Buffer): void => {
    const issue = inspectJson(buffer.toString('utf8'), maxDepth);
    if (!issue) return;
    const field = ['body', issue.path].filter(Boolean).join('.');
    throw new ValidationError(`${field}: ${issue.message}`, { errors: [{ field, message: issue.message }] });
  };

/** Mutating routes take JSON only: anything else is a 415, not a silently empty body. */
export function jsonBody({ limit, maxDepth }: JsonLimits): RequestHandler[] {
  const requireJson: RequestHandler = (req, res, next) => {
    const hasBody =
      req.get('content-length') !== '0' && (req.get('content-length') || req.get('transfer-encoding'));
    if (hasBody && !req.is('application/json')) {
      sendProblem(res, problem(415, 'unsupported-media-type', 'Send the body as application/json.'));
      return;
    }
    next();
  };
  return [
    requireJson,
    express.json({ limit, strict: true, type: 'application/json', verify: verifyJson(maxDepth) }),
  ];
}

import express, { type RequestHandler } from 'express';
import { ValidationError } from '../../core/errors';
import { inspectJson } from '../../core/json-inspect';
import { problem, sendProblem } from './problem';

/** Deepest JSON nesting accepted in a body (set once from config by createApp). */
export const jsonLimits = { maxDepth: 20 };

/** Refuses duplicate keys, `__proto__`/`constructor`/`prototype` keys and deep nesting (400). */
function verifyJson(_req: unknown, _res: unknown, buffer: Buffer): void {
  const issue = inspectJson(buffer.toString('utf8'), jsonLimits.maxDepth);
  if (!issue) return;
  const field = ['body', issue.path].filter(Boolean).join('.');
  throw new ValidationError(`${field}: ${issue.message}`, { errors: [{ field, message: issue.message }] });
}

/** Mutating routes take JSON only: anything else is a 415, not a silently empty body. */
export function jsonBody(limit: string): RequestHandler[] {
  const requireJson: RequestHandler = (req, res, next) => {
    const hasBody =
      req.get('content-length') !== '0' && (req.get('content-length') || req.get('transfer-encoding'));
    if (hasBody && !req.is('application/json')) {
      sendProblem(res, problem(415, 'unsupported-media-type', 'Send the body as application/json.'));
      return;
    }
    next();
  };
  return [requireJson, express.json({ limit, strict: true, type: 'application/json', verify: verifyJson })];
}

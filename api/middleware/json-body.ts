import express, { type RequestHandler } from 'express';
import { problem, sendProblem } from './problem';

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
  return [requireJson, express.json({ limit, strict: true, type: 'application/json' })];
}

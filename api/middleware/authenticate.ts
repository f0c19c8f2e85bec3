import type { IncomingHttpHeaders } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import { hasScope } from '../../core/domain/api-key-scopes';
import type { ApiKeyVerifier, AuthenticatedKey, KeyFailure } from '../auth/key-verifier';
import { requiredScope } from '../auth/route-scopes';
import { problem, sendProblem } from './problem';

// Three steps, so the rate limiter can sit between them and count unauthenticated callers per IP:
// identify (never answers), then the limiter, then requireKey / requireScope (answer 401 / 403).

interface AuthLocals {
  auth?: AuthenticatedKey;
  authFailure?: KeyFailure;
}

export function authOf(res: Response): AuthenticatedKey | undefined {
  return (res.locals as AuthLocals).auth;
}

/** The presented key: `Authorization: Bearer <key>`, else `X-API-Key`. */
export function presentedKey(req: Request): string | undefined {
  return presentedKeyOf(req.headers);
}

/** presentedKey from bare node:http headers (the fast path, api/hot-path, has no Express request). */
export function presentedKeyOf(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
    return match?.[1] ?? '';
  }
  const key = headers['x-api-key'];
  return Array.isArray(key) ? key.join(', ') : key;
}

export function identify(verifier: ApiKeyVerifier): RequestHandler {
  return async (req, res, next) => {
    const result = await verifier.verify(presentedKey(req));
    const locals = res.locals as AuthLocals;
    if (result.ok) locals.auth = result.key;
    else locals.authFailure = result.reason;
    next();
  };
}

const failureDetail: Record<KeyFailure, string> = {
  missing: 'Send an API key as "Authorization: Bearer <key>" or "X-API-Key: <key>".',
  malformed: 'The API key is not well formed.',
  unknown: 'The API key is not valid.',
  expired: 'The API key has expired.',
  revoked: 'The API key has been revoked.',
};

export const requireKey: RequestHandler = (_req, res, next) => {
  const locals = res.locals as AuthLocals;
  if (locals.auth) {
    next();
    return;
  }
  const reason = locals.authFailure ?? 'missing';
  res.setHeader('www-authenticate', 'Bearer realm="rpa"');
  sendProblem(res, problem(401, 'unauthorized', failureDetail[reason], { reason }));
};

/** 403 unless the key holds the scope this method and path need (route-scopes.ts). */
export const requireScope: RequestHandler = (req, res, next) => {
  const needed = requiredScope(req.method, req.path);
  const auth = authOf(res);
  if (auth && hasScope(auth.scopes, needed)) {
    next();
    return;
  }
  sendProblem(
    res,
    problem(403, 'forbidden', `This API key lacks the "${needed}" scope.`, { requiredScope: needed }),
  );
};

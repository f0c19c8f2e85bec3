import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { withLogContext } from '../../core/observability/log-context';

const acceptable = /^[A-Za-z0-9._:-]{1,128}$/;

/** Whether a caller's X-Request-Id may be kept as is (also the fast path's rule, api/hot-path). */
export const acceptableRequestId = (id: string): boolean => acceptable.test(id);

/** Keeps a caller's (or nginx's) X-Request-Id when it is sane, otherwise makes one. */
export const requestId: RequestHandler = (req, res, next) => {
  const incoming = req.get('x-request-id');
  const id = incoming && acceptableRequestId(incoming) ? incoming : randomUUID();
  res.setHeader('x-request-id', id);
  withLogContext({ requestId: id }, next);
};

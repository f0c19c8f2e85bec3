import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { isDomainError, UnavailableError } from '../../core/domain/errors';
import type { Logger } from '../../core/observability/logger';

// RFC 9457 problem details. `type` is stable: clients branch on it, never on `title` or `detail`.

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

export const problemType = (slug: string): string => `/problems/${slug}`;

export function sendProblem(res: Response, problem: Problem): void {
  res.status(problem.status).type('application/problem+json').json(problem);
}

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  507: 'Insufficient Storage',
};

export function problem(
  status: number,
  slug: string,
  detail: string,
  extensions: Record<string, unknown> = {},
): Problem {
  return { type: problemType(slug), title: titles[status] ?? 'Error', status, detail, ...extensions };
}

/** body-parser marks its errors with `type` and `status`; map them to stable problem types. */
function bodyParserProblem(err: unknown): Problem | null {
  if (typeof err !== 'object' || err === null || !('type' in err)) return null;
  switch ((err as { type: unknown }).type) {
    case 'entity.too.large':
      return problem(413, 'body-too-large', 'The request body is larger than the limit.', {
        limit: (err as { limit?: number }).limit,
      });
    case 'entity.parse.failed':
      return problem(400, 'malformed-json', 'The request body is not valid JSON.');
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return problem(415, 'unsupported-media-type', 'The body must be UTF-8 JSON.');
    default:
      return null;
  }
}

export const notFoundHandler: RequestHandler = (req, res) => {
  sendProblem(res, problem(404, 'route-not-found', `No route for ${req.method} ${req.path}.`));
};

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const requestId = res.getHeader('x-request-id');
    const instance = typeof requestId === 'string' ? { requestId } : {};
    if (isDomainError(err)) {
      if (err instanceof UnavailableError) res.setHeader('retry-after', String(err.retryAfterSeconds));
      // A full or failing disk is the operator's to see; its path and errno are only in the cause.
      if (err.status >= 500 && err.cause !== undefined) {
        logger.warn({ err, cause: err.cause, method: req.method, path: req.path, ...instance }, err.message);
      }
      sendProblem(res, { ...problem(err.status, err.type, err.message, err.detail), ...instance });
      return;
    }
    // The router could not percent-decode a path parameter (e.g. /v1/robots/%E0%A4%A): the client's fault.
    if (err instanceof URIError) {
      sendProblem(res, {
        ...problem(400, 'malformed-url', 'A path segment is not valid percent-encoding.'),
        ...instance,
      });
      return;
    }
    const parsed = bodyParserProblem(err);
    if (parsed) {
      sendProblem(res, { ...parsed, ...instance });
      return;
    }
    // Details go to the log only; the client gets a generic body and the request id to quote.
    logger.error({ err, method: req.method, path: req.path, ...instance }, 'unhandled error');
    sendProblem(res, { ...problem(500, 'internal-error', 'An unexpected error occurred.'), ...instance });
  };
}

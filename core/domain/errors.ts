// Domain errors; the API maps them to problem+json in one place (api/middleware/problem.ts).

export abstract class DomainError extends Error {
  abstract readonly status: number;
  abstract readonly type: string;
  readonly detail?: Record<string, unknown>;

  constructor(message: string, detail?: Record<string, unknown>) {
    super(message);
    this.name = new.target.name;
    if (detail) this.detail = detail;
  }
}

export class NotFoundError extends DomainError {
  readonly status = 404;
  readonly type = 'not-found';
}

export class ValidationError extends DomainError {
  readonly status = 400;
  readonly type = 'validation-error';
}

/** A robot's input that its type's inputSchema refuses: it would be refused again, unchanged. */
export class RobotInputError extends ValidationError {}

export class ConflictError extends DomainError {
  readonly status = 409;
  readonly type = 'conflict';
}

/** Well-formed but refused on its merits (e.g. a webhook target in a private network). */
export class UnprocessableError extends DomainError {
  readonly status = 422;
  readonly type = 'unprocessable';
}

export class UnavailableError extends DomainError {
  readonly status = 503;
  readonly type = 'service-unavailable';

  constructor(
    message: string,
    /** Sent as Retry-After. */
    readonly retryAfterSeconds = 5,
    detail?: Record<string, unknown>,
  ) {
    super(message, detail);
  }
}

export function isDomainError(err: unknown): err is DomainError {
  return err instanceof DomainError;
}

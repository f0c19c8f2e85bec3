import { isGrpcServiceError, ServiceError } from '@temporalio/client';
import { NamespaceNotFoundError } from '@temporalio/common';

// gRPC codes with which the server itself turned the request away: it was read and not carried
// out, on every attempt alike (the client's retries resend one request). Timeouts, dropped
// connections, UNKNOWN/INTERNAL and RESOURCE_EXHAUSTED (a retry after a start that was made can
// be rate-limited) are absent: after them the start may or may not have happened.
const REFUSED_CODES = new Set([
  3, // INVALID_ARGUMENT
  5, // NOT_FOUND (e.g. the namespace)
  7, // PERMISSION_DENIED
  9, // FAILED_PRECONDITION
  11, // OUT_OF_RANGE
  12, // UNIMPLEMENTED
  16, // UNAUTHENTICATED
]);

/**
 * True only when a failed workflow start surely made no workflow. Anything else is an unknown
 * outcome: the workflow may exist, so what the start was for must not be undone.
 */
export function startSurelyRefused(err: unknown): boolean {
  // The client's reading of NOT_FOUND for the namespace.
  if (err instanceof NamespaceNotFoundError) return true;
  const cause = err instanceof ServiceError ? err.cause : err;
  return isGrpcServiceError(cause) && REFUSED_CODES.has(cause.code);
}

import { ServiceError } from '@temporalio/client';
import { NamespaceNotFoundError } from '@temporalio/common';
import { startSurelyRefused } from '../../core/adapters/temporal/start-refused';

/** A gRPC error as @grpc/grpc-js makes it, wrapped as the Temporal client throws it. */
function startFailure(code: number): ServiceError {
  const cause = Object.assign(new Error(`code ${code}`), { code, details: '', metadata: {} });
  return new ServiceError('Failed to start Workflow', { cause });
}

describe('startSurelyRefused: only a refusal by the server means no workflow was made', () => {
  it.each([
    ['INVALID_ARGUMENT', 3],
    ['PERMISSION_DENIED', 7],
    ['FAILED_PRECONDITION', 9],
    ['UNAUTHENTICATED', 16],
  ])('%s is a refusal', (_name, code) => {
    expect(startSurelyRefused(startFailure(code))).toBe(true);
  });

  it('an unknown namespace is a refusal', () => {
    expect(startSurelyRefused(new NamespaceNotFoundError('nowhere'))).toBe(true);
  });

  it.each([
    ['CANCELLED', 1],
    ['UNKNOWN', 2],
    ['DEADLINE_EXCEEDED', 4],
    ['RESOURCE_EXHAUSTED', 8],
    ['INTERNAL', 13],
    ['UNAVAILABLE', 14],
  ])('%s leaves the outcome unknown', (_name, code) => {
    expect(startSurelyRefused(startFailure(code))).toBe(false);
  });

  it('an error that is not from gRPC leaves the outcome unknown', () => {
    expect(startSurelyRefused(new Error('socket hang up'))).toBe(false);
    expect(startSurelyRefused(undefined)).toBe(false);
  });
});

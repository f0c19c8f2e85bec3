/**
 * The step's verdict on its input: thrown by `run`, it fails the step without a retry and without
 * trying another module (a business failure: the robot parks or fails). Any other error is taken as
 * transient and the attempt is retried per the step's retry policy.
 */
export class PermanentError extends Error {
  override name = 'PermanentError';
  /** The failure's type as the robot's history records it; `PermanentError` unless given. */
  readonly type: string;
  /** Small JSON the failure carries (shown with the robot's failure). */
  readonly details: Record<string, unknown> | undefined;

  constructor(
    message: string,
    options: { type?: string; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.type = options.type ?? 'PermanentError';
    this.details = options.details;
  }
}

/** A step or module definition the SDK refuses before anything starts (a bad name, kind, version or schema). */
export class DefinitionError extends Error {
  override name = 'DefinitionError';
}

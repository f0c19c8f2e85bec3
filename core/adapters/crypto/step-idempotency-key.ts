import { uuidV5 } from './uuid-v5';

// The idempotency key of one step of one robot (docs/modules.md): the built-in http-request step
// sends it as Idempotency-Key, and the SDK hands it to custom steps, so both sides of a retry agree.

/** The namespace of derived keys (a fixed, random UUID; changing it would change every key). */
const STEP_IDEMPOTENCY_NAMESPACE = '87b28699-0cfe-4c45-b256-eff314ca4aae';

/**
 * The same for every attempt of one step of one robot, a robot retry included: the receiver can
 * tell a repeat from a new request. A UUID, because some APIs limit the header to 64 characters.
 */
export const idempotencyKey = (robotId: string, stepName: string): string =>
  uuidV5(`${robotId}/${stepName}`, STEP_IDEMPOTENCY_NAMESPACE);

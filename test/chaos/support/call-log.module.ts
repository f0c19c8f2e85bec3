import { z } from 'zod';
import { defineStep, startModule } from '../../../sdk';

// The chaos scenarios' custom step kind, run by `rpa modules start` as a user's module would be:
// `chaos.record` calls a downstream API (CALL_LOG_URL, a keyed receiver in the test) with the
// step's idempotency key, the same on every attempt of the robot's step.
const record = defineStep({
  kind: 'chaos.record',
  version: '1.0.0',
  description: 'Records the robot at the call log, once per robot (chaos scenarios)',
  params: z.object({}),
  input: z.object({}).passthrough(),
  output: z.object({ recorded: z.literal(true) }),
  async run({ robotId, idempotencyKey }) {
    const url = process.env.CALL_LOG_URL;
    if (!url) throw new Error('CALL_LOG_URL is not set');
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
      body: JSON.stringify({ robotId }),
      signal: AbortSignal.timeout(5000),
    });
    if (!response.ok) throw new Error(`call log answered ${response.status}`);
    return { recorded: true as const };
  },
});

startModule({ name: 'chaos-calls', version: '1.0.0', capacity: 8, steps: [record] }).catch((err: unknown) => {
  process.stderr.write(
    `module chaos-calls did not start: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});

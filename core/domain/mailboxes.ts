import { z } from 'zod';
import { DURATION_PATTERN, parseDuration } from './durations';

// MAILBOXES (docs/email-intake.md): the IMAP mailboxes the email-intake monitor watches, one
// long-running workflow each. A JSON array in the environment, parsed here once with the config.

const durationMs = (min: number, max: number, example: string) =>
  z
    .string()
    .regex(DURATION_PATTERN, `a duration like ${example}`)
    .transform((text) => parseDuration(text) ?? 0)
    .refine((ms) => ms >= min && ms <= max, `must be between ${min / 1000}s and ${max / 86_400_000}d`);

/** A password in the clear, or `{"$secret": "name"}`: a robot secret (POST /v1/secrets), read at connect. */
const password = z.union([
  z.string().min(1),
  z.object({ $secret: z.string().regex(/^[a-zA-Z0-9_.-]{1,100}$/, 'a secret name') }).strict(),
]);

export const mailboxSchema = z
  .object({
    // Part of the monitor's workflow id (mailbox-<name>) and of the metric and alert labels.
    name: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes'),
    host: z.string().min(1).max(255),
    port: z.number().int().min(1).max(65535).default(993),
    secure: z.boolean().default(true),
    user: z.string().min(1).max(320),
    password,
    folder: z.string().min(1).max(200).default('INBOX'),
    robotType: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,62}$/)
      .default('email-intake'),
    /** What happens to a processed message: moved to `processedFolder` (created if missing), or flagged. */
    processed: z.enum(['move', 'flag']).default('move'),
    processedFolder: z.string().min(1).max(200).default('Processed'),
    /** No new mail for this long raises the mailbox_silent alert. */
    expectedHeartbeat: durationMs(1000, 365 * 86_400_000, '24h').default(24 * 3_600_000),
    /** How long one IDLE (or, without IDLE, one poll wait) lasts before the monitor looks again. */
    pollInterval: durationMs(500, 3_600_000, '60s').default(60_000),
    /** Consecutive failed connections before the mailbox_unreachable alert. */
    failuresBeforeAlert: z.number().int().min(1).max(100).default(3),
  })
  .strict();

export type MailboxConfig = z.infer<typeof mailboxSchema>;

export const mailboxesSchema = z
  .array(mailboxSchema)
  .max(100)
  .superRefine((mailboxes, ctx) => {
    const seen = new Set<string>();
    for (const [index, mailbox] of mailboxes.entries()) {
      if (seen.has(mailbox.name)) {
        ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `mailbox "${mailbox.name}" twice` });
      }
      seen.add(mailbox.name);
    }
  });

/** The MAILBOXES variable: JSON text to a checked list, with every problem named by its path. */
export const mailboxesEnv = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `not JSON: ${(err as Error).message}` });
      return z.NEVER;
    }
  })
  .pipe(mailboxesSchema);

/** The monitor workflow id of a mailbox. */
export const mailboxWorkflowId = (name: string) => `mailbox-${name}`;

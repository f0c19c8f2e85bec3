import { createHash } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { ImapFlow } from 'imapflow';
import { type AddressObject, type Attachment, simpleParser } from 'mailparser';
import { EMAIL_ROBOT_NAMESPACE, uuidV5 } from '../core/adapters/crypto/uuid-v5';
import { ConflictError, isDomainError, RobotInputError } from '../core/domain/errors';
import { FAILURE_TYPES } from '../core/domain/failure-types';
import type {
  CheckMailboxArgs,
  CheckMailboxResult,
  MailboxCheckpoint,
} from '../core/domain/mailbox-workflow.contract';
import type { MailboxConfig } from '../core/domain/mailboxes';
import type { Logger } from '../core/observability/logger';
import { emailsReceived, mailboxFailures } from '../core/observability/metrics';
import type { RobotsRepository } from '../db/robots.repository';

// The mailbox monitor's side effects (workflows/mailbox-monitor.workflow.ts): read new mail over
// IMAP, turn each message into one robot, file the message away. Its alerts: mailbox-alerts.ts.

/** Stores an attachment as a document, checked as an upload is; throws when it is not one we accept. */
export interface DocumentIntake {
  upload(file: { fileName: string | null; bytes: Buffer }): Promise<{ documentId: string }>;
}

/**
 * Makes a robot as POST /v1/robots does (same defaults, same input checks), under the caller's id
 * and idempotency key; `created: false` when that key already made it. May throw ConflictError.
 */
export interface RobotIntake {
  create(robot: {
    /** The mailbox it came from: the robot's author in the audit log. */
    mailbox: string;
    robotId: string;
    type: string;
    input: Record<string, unknown>;
    idempotencyKey: string;
  }): Promise<{ created: boolean }>;
}

export interface MailboxActivityDeps {
  mailboxes: MailboxConfig[];
  /** Robot secrets (`{"$secret": name}` passwords). */
  revealSecret: (name: string) => Promise<string | null>;
  documents: DocumentIntake;
  robotIntake: RobotIntake;
  robots: Pick<RobotsRepository, 'findById'>;
  logger: Logger;
}

/** Messages taken in by one check at most; the workflow calls again at once when there were some. */
const MESSAGES_PER_CHECK = 50;

/** Keyword set on processed messages when the mailbox is configured to flag rather than move. */
export const PROCESSED_KEYWORD = '$RpaProcessed';

const addresses = (value: AddressObject | AddressObject[] | undefined): string[] =>
  (Array.isArray(value) ? value : value ? [value] : []).flatMap((group) =>
    group.value.flatMap((entry) => (entry.address ? [entry.address] : [])),
  );

/** The robot a message becomes: from its Message-ID, or, without one, from where it was found. */
export function emailRobotId(
  messageId: string | undefined,
  mailbox: string,
  uidValidity: string,
  uid: number,
): string {
  // Per mailbox: the same message sent to two intake addresses is work for both pipelines.
  const name = messageId?.trim()
    ? `message-id:${mailbox}\n${messageId.trim()}`
    : `mailbox:${createHash('sha256').update(`${mailbox}\n${uidValidity}\n${uid}`).digest('hex')}`;
  return uuidV5(name, EMAIL_ROBOT_NAMESPACE);
}

function configOf(deps: MailboxActivityDeps, name: string): MailboxConfig {
  const mailbox = deps.mailboxes.find((m) => m.name === name);
  if (!mailbox) {
    throw ApplicationFailure.nonRetryable(
      `mailbox "${name}" is not in MAILBOXES`,
      FAILURE_TYPES.mailboxNotConfigured,
    );
  }
  return mailbox;
}

async function connect(deps: MailboxActivityDeps, mailbox: MailboxConfig): Promise<ImapFlow> {
  const pass =
    typeof mailbox.password === 'string'
      ? mailbox.password
      : await deps.revealSecret(mailbox.password.$secret);
  if (pass === null)
    throw new Error(`mailbox ${mailbox.name}: secret "${String(mailbox.password)}" not found`);
  const client = new ImapFlow({
    host: mailbox.host,
    port: mailbox.port,
    secure: mailbox.secure,
    auth: { user: mailbox.user, pass },
    logger: false,
    // IDLE is started by us, inside the mailbox lock, for a bounded time.
    disableAutoIdle: true,
    // Servers without IDLE: idle() polls with NOOP instead.
    missingIdleCommand: 'NOOP',
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: Math.max(60_000, mailbox.pollInterval + 30_000),
  });
  // A dropped connection emits 'error'; the pending command rejects too, which is what we act on.
  client.on('error', (err: Error) =>
    deps.logger.debug({ err, mailbox: mailbox.name }, 'imap connection error'),
  );
  await client.connect();
  return client;
}

/**
 * Attachments become documents; one refused on its merits (4xx: not a document, too large…) is
 * recorded, not fatal. Anything else fails the check.
 */
async function storeAttachments(deps: MailboxActivityDeps, attachments: Attachment[]) {
  const documentIds: string[] = [];
  const rejectedAttachments: { fileName: string | null; reason: string }[] = [];
  for (const attachment of attachments) {
    try {
      const { documentId } = await deps.documents.upload({
        fileName: attachment.filename ?? null,
        bytes: attachment.content,
      });
      documentIds.push(documentId);
    } catch (err) {
      // A full or unusable document store, a database outage: not the attachment's fault. The
      // message then stays unfiled and is read again on the next check, rather than becoming a
      // robot without its document.
      if (!isDomainError(err) || err.status >= 500) throw err;
      // A signature image, a .docx…: the robot shows what was left out and why.
      rejectedAttachments.push({ fileName: attachment.filename ?? null, reason: (err as Error).message });
    }
  }
  return { documentIds, rejectedAttachments };
}

/** One message: its attachments as documents, then its robot (or the one already made for it). */
async function intake(
  deps: MailboxActivityDeps,
  mailbox: MailboxConfig,
  uidValidity: string,
  uid: number,
  source: Buffer,
): Promise<'started' | 'duplicate' | 'refused'> {
  const parsed = await simpleParser(source);
  const robotId = emailRobotId(parsed.messageId, mailbox.name, uidValidity, uid);
  // Seen before (a restart, a reconnect, a second copy): no new documents, no second robot.
  if (await deps.robots.findById(robotId)) return 'duplicate';

  const { documentIds, rejectedAttachments } = await storeAttachments(deps, parsed.attachments);
  const input: Record<string, unknown> = {
    ...(documentIds[0] ? { documentId: documentIds[0] } : {}),
    documentIds,
    rejectedAttachments,
    email: {
      from: addresses(parsed.from)[0] ?? '',
      to: addresses(parsed.to),
      subject: parsed.subject ?? '',
      text: (parsed.text ?? '').slice(0, 20_000),
      messageId: parsed.messageId ?? null,
      mailbox: mailbox.name,
    },
  };
  try {
    const { created } = await deps.robotIntake.create({
      mailbox: mailbox.name,
      robotId,
      type: mailbox.robotType,
      input,
      idempotencyKey: `email:${robotId}`,
    });
    return created ? 'started' : 'duplicate';
  } catch (err) {
    // Made concurrently with other documents ids: the robot exists, which is what counts.
    if (err instanceof ConflictError) return 'duplicate';
    // The mailbox's robot type refuses what this message became (its inputSchema), and always will:
    // the message is filed with the others instead of stopping the mailbox at it.
    if (err instanceof RobotInputError) {
      deps.logger.warn(
        { mailbox: mailbox.name, robotId, errors: err.detail?.errors },
        `message not taken in: ${err.message}`,
      );
      return 'refused';
    }
    throw err;
  }
}

async function fileAway(client: ImapFlow, mailbox: MailboxConfig, uid: number): Promise<void> {
  if (mailbox.processed === 'flag') {
    await client.messageFlagsAdd(String(uid), ['\\Seen', PROCESSED_KEYWORD], { uid: true });
    return;
  }
  await client.messageMove(String(uid), mailbox.processedFolder, { uid: true });
}

async function ensureFolder(client: ImapFlow, folder: string): Promise<void> {
  const folders = await client.list();
  if (folders.some((f) => f.path === folder)) return;
  await client.mailboxCreate(folder).catch((err: unknown) => {
    // Created meanwhile by someone else is fine.
    if (!/exist/i.test(String((err as { responseText?: string }).responseText ?? err))) throw err;
  });
}

/** Waits for new mail (an EXISTS from IDLE, or NOOP polling without IDLE) for at most waitMs. */
async function waitForMail(client: ImapFlow, waitMs: number): Promise<void> {
  const context = Context.current();
  await new Promise<void>((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      clearInterval(beat);
      client.off('exists', finish);
      client.off('close', finish);
      resolve();
    };
    const timer = setTimeout(finish, waitMs);
    const beat = setInterval(() => context.heartbeat(), 5000);
    client.on('exists', finish);
    client.on('close', finish);
    context.cancellationSignal.addEventListener('abort', finish);
    client.idle().catch(() => finish());
  });
}

type Tally = { received: number; robotsStarted: number; duplicates: number };

/** Takes in the messages after the checkpoint (one batch at most) and returns the new checkpoint. */
async function takeInNew(
  deps: MailboxActivityDeps,
  client: ImapFlow,
  mailbox: MailboxConfig,
  checkpoint: MailboxCheckpoint,
  tally: Tally,
): Promise<MailboxCheckpoint> {
  const found = await client.search(
    mailbox.processed === 'flag'
      ? { uid: `${checkpoint.lastUid + 1}:*`, unKeyword: PROCESSED_KEYWORD }
      : { uid: `${checkpoint.lastUid + 1}:*` },
    { uid: true },
  );
  // `n:*` always matches the newest message, even below n.
  // A backlog is taken in batches: the activity returns (and the checkpoint is saved) often.
  const uids = (found || [])
    .filter((uid) => uid > checkpoint.lastUid)
    .sort((a, b) => a - b)
    .slice(0, MESSAGES_PER_CHECK);
  let current = checkpoint;
  for (const uid of uids) {
    const message = await client.fetchOne(String(uid), { source: true }, { uid: true });
    if (message !== false && message.source) {
      const outcome = await intake(deps, mailbox, current.uidValidity, uid, message.source);
      tally.received += 1;
      if (outcome === 'started') tally.robotsStarted += 1;
      else if (outcome === 'duplicate') tally.duplicates += 1;
      emailsReceived.inc({ mailbox: mailbox.name });
      await fileAway(client, mailbox, uid);
    }
    current = { uidValidity: current.uidValidity, lastUid: uid };
    Context.current().heartbeat();
  }
  return current;
}

/** Inside the folder's lock: new mail now, else wait for some (bounded), then take it in. */
async function readFolder(
  deps: MailboxActivityDeps,
  client: ImapFlow,
  mailbox: MailboxConfig,
  args: CheckMailboxArgs,
): Promise<CheckMailboxResult> {
  const tally: Tally = { received: 0, robotsStarted: 0, duplicates: 0 };
  const lock = await client.getMailboxLock(mailbox.folder);
  try {
    const opened = client.mailbox;
    if (!opened) throw new Error(`mailbox ${mailbox.name}: ${mailbox.folder} did not open`);
    const uidValidity = String(opened.uidValidity);
    // A new UIDVALIDITY renumbers the folder: read it all again; Message-ID ids keep it one robot each.
    let checkpoint: MailboxCheckpoint =
      args.checkpoint?.uidValidity === uidValidity ? args.checkpoint : { uidValidity, lastUid: 0 };
    checkpoint = await takeInNew(deps, client, mailbox, checkpoint, tally);
    if (tally.received === 0 && args.waitMs > 0) {
      await waitForMail(client, args.waitMs);
      checkpoint = await takeInNew(deps, client, mailbox, checkpoint, tally);
    }
    if (tally.received > 0) deps.logger.info({ mailbox: mailbox.name, ...tally }, 'mail taken in');
    return { checkpoint, ...tally };
  } finally {
    lock.release();
  }
}

async function checkMailbox(deps: MailboxActivityDeps, args: CheckMailboxArgs): Promise<CheckMailboxResult> {
  const mailbox = configOf(deps, args.mailbox);
  let client: ImapFlow;
  try {
    client = await connect(deps, mailbox);
  } catch (err) {
    mailboxFailures.inc({ mailbox: mailbox.name });
    throw err;
  }
  try {
    if (mailbox.processed === 'move') await ensureFolder(client, mailbox.processedFolder);
    return await readFolder(deps, client, mailbox, args);
  } catch (err) {
    mailboxFailures.inc({ mailbox: mailbox.name });
    throw err;
  } finally {
    await client.logout().catch(() => client.close());
  }
}

export function createMailboxActivities(deps: MailboxActivityDeps) {
  return {
    checkMailbox: (args: CheckMailboxArgs): Promise<CheckMailboxResult> => checkMailbox(deps, args),
  };
}

export type MailboxActivities = ReturnType<typeof createMailboxActivities>;

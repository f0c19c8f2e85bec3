import { createHash } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { ImapFlow } from 'imapflow';
import { type AddressObject, simpleParser } from 'mailparser';
import type { DocumentsService } from '../api/documents.service';
import type { RobotsService } from '../api/robots.service';
import { createRobotBody } from '../api/schemas';
import { ConflictError, RobotInputError } from '../core/errors';
import type { Logger } from '../core/logger';
import type { MailboxConfig } from '../core/mailboxes';
import { emailsReceived, mailboxFailures } from '../core/metrics';
import { NOTIFY_MAX_ATTEMPTS } from '../core/notification-events';
import type { Notifier } from '../core/notifier';
import { EMAIL_ROBOT_NAMESPACE, uuidV5 } from '../core/uuid-v5';
import { type AlertsRepository, alertNotice } from '../db/alerts.repository';
import type { RobotsRepository } from '../db/robots.repository';
import type {
  CheckMailboxArgs,
  CheckMailboxResult,
  MailboxAlertArgs,
  MailboxCheckpoint,
} from '../workflows/mailbox-monitor.definitions';

// The mailbox monitor's side effects (workflows/mailbox-monitor.workflow.ts): read new mail over
// IMAP, turn each message into one robot, file the message away; and the mailbox alerts.

export interface MailboxActivityDeps {
  mailboxes: MailboxConfig[];
  /** Robot secrets (`{"$secret": name}` passwords). */
  revealSecret: (name: string) => Promise<string | null>;
  documents: Pick<DocumentsService, 'upload'>;
  robotsService: Pick<RobotsService, 'create'>;
  robots: Pick<RobotsRepository, 'findById'>;
  alerts: Pick<AlertsRepository, 'fire' | 'resolve' | 'firing'>;
  notifier: Notifier;
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

export function createMailboxActivities(deps: MailboxActivityDeps) {
  const { logger } = deps;

  const configOf = (name: string): MailboxConfig => {
    const mailbox = deps.mailboxes.find((m) => m.name === name);
    if (!mailbox) {
      throw ApplicationFailure.nonRetryable(`mailbox "${name}" is not in MAILBOXES`, 'MailboxNotConfigured');
    }
    return mailbox;
  };

  const connect = async (mailbox: MailboxConfig): Promise<ImapFlow> => {
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
    client.on('error', (err: Error) => logger.debug({ err, mailbox: mailbox.name }, 'imap connection error'));
    await client.connect();
    return client;
  };

  /** One message: its attachments as documents, then its robot (or the one already made for it). */
  const intake = async (
    mailbox: MailboxConfig,
    uidValidity: string,
    uid: number,
    source: Buffer,
  ): Promise<'started' | 'duplicate' | 'refused'> => {
    const parsed = await simpleParser(source);
    const robotId = emailRobotId(parsed.messageId, mailbox.name, uidValidity, uid);
    // Seen before (a restart, a reconnect, a second copy): no new documents, no second robot.
    if (await deps.robots.findById(robotId)) return 'duplicate';

    const documentIds: string[] = [];
    const rejectedAttachments: { fileName: string | null; reason: string }[] = [];
    for (const attachment of parsed.attachments) {
      try {
        const { document } = await deps.documents.upload({
          fileName: attachment.filename ?? null,
          bytes: attachment.content,
        });
        documentIds.push(document.documentId);
      } catch (err) {
        // Not an accepted document (a signature image, a .docx…): recorded on the robot, not fatal.
        rejectedAttachments.push({ fileName: attachment.filename ?? null, reason: (err as Error).message });
      }
    }
    const from = addresses(parsed.from)[0] ?? '';
    const input: Record<string, unknown> = {
      ...(documentIds[0] ? { documentId: documentIds[0] } : {}),
      documentIds,
      rejectedAttachments,
      email: {
        from,
        to: addresses(parsed.to),
        subject: parsed.subject ?? '',
        text: (parsed.text ?? '').slice(0, 20_000),
        messageId: parsed.messageId ?? null,
        mailbox: mailbox.name,
      },
    };
    try {
      const { created } = await deps.robotsService.create(
        // The API's own body schema: the same defaults and control-character stripping as POST /v1/robots.
        createRobotBody.parse({ type: mailbox.robotType, input }),
        `email:${robotId}`,
        null,
        robotId,
      );
      return created ? 'started' : 'duplicate';
    } catch (err) {
      // Made concurrently with other documents ids: the robot exists, which is what counts.
      if (err instanceof ConflictError) return 'duplicate';
      // The mailbox's robot type refuses what this message became (its inputSchema), and always will:
      // the message is filed with the others instead of stopping the mailbox at it.
      if (err instanceof RobotInputError) {
        logger.warn(
          { mailbox: mailbox.name, robotId, errors: err.detail?.errors },
          `message not taken in: ${err.message}`,
        );
        return 'refused';
      }
      throw err;
    }
  };

  const fileAway = async (client: ImapFlow, mailbox: MailboxConfig, uid: number): Promise<void> => {
    if (mailbox.processed === 'flag') {
      await client.messageFlagsAdd(String(uid), ['\\Seen', PROCESSED_KEYWORD], { uid: true });
      return;
    }
    await client.messageMove(String(uid), mailbox.processedFolder, { uid: true });
  };

  const ensureFolder = async (client: ImapFlow, folder: string): Promise<void> => {
    const folders = await client.list();
    if (folders.some((f) => f.path === folder)) return;
    await client.mailboxCreate(folder).catch((err: unknown) => {
      // Created meanwhile by someone else is fine.
      if (!/exist/i.test(String((err as { responseText?: string }).responseText ?? err))) throw err;
    });
  };

  /** Waits for new mail (an EXISTS from IDLE, or NOOP polling without IDLE) for at most waitMs. */
  const waitForMail = async (client: ImapFlow, waitMs: number): Promise<void> => {
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
  };

  return {
    async checkMailbox(args: CheckMailboxArgs): Promise<CheckMailboxResult> {
      const mailbox = configOf(args.mailbox);
      let client: ImapFlow;
      try {
        client = await connect(mailbox);
      } catch (err) {
        mailboxFailures.inc({ mailbox: mailbox.name });
        throw err;
      }
      const result = { received: 0, robotsStarted: 0, duplicates: 0 };
      try {
        if (mailbox.processed === 'move') await ensureFolder(client, mailbox.processedFolder);
        const lock = await client.getMailboxLock(mailbox.folder);
        try {
          const opened = client.mailbox;
          if (!opened) throw new Error(`mailbox ${mailbox.name}: ${mailbox.folder} did not open`);
          const uidValidity = String(opened.uidValidity);
          // A new UIDVALIDITY renumbers the folder: read it all again; Message-ID ids keep it one robot each.
          let checkpoint: MailboxCheckpoint =
            args.checkpoint?.uidValidity === uidValidity ? args.checkpoint : { uidValidity, lastUid: 0 };
          const handleNew = async () => {
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
            for (const uid of uids) {
              const message = await client.fetchOne(String(uid), { source: true }, { uid: true });
              if (message !== false && message.source) {
                const outcome = await intake(mailbox, uidValidity, uid, message.source);
                result.received += 1;
                if (outcome === 'started') result.robotsStarted += 1;
                else if (outcome === 'duplicate') result.duplicates += 1;
                emailsReceived.inc({ mailbox: mailbox.name });
                await fileAway(client, mailbox, uid);
              }
              checkpoint = { uidValidity, lastUid: uid };
              Context.current().heartbeat();
            }
          };
          await handleNew();
          if (result.received === 0 && args.waitMs > 0) {
            await waitForMail(client, args.waitMs);
            await handleNew();
          }
          if (result.received > 0) logger.info({ mailbox: mailbox.name, ...result }, 'mail taken in');
          return { checkpoint, ...result };
        } finally {
          lock.release();
        }
      } catch (err) {
        mailboxFailures.inc({ mailbox: mailbox.name });
        throw err;
      } finally {
        await client.logout().catch(() => client.close());
      }
    },

    /** Stores the alert (GET /v1/alerts) and sends alert.fired / alert.resolved like other alerts. */
    async raiseMailboxAlert(args: MailboxAlertArgs): Promise<{ alertId: string | null }> {
      const subject = `mailbox:${args.mailbox}`;
      let row = args.firing
        ? await deps.alerts.fire({
            rule: args.rule,
            subject,
            severity: args.rule === 'mailbox_unreachable' ? 'critical' : 'warning',
            value: args.value,
            threshold: args.threshold,
            message: args.message,
          })
        : await deps.alerts.resolve(args.rule, subject, args.value);
      // A retry after the row was written: notify for the row that is already there.
      if (!row && args.firing) {
        row = (await deps.alerts.firing()).find((a) => a.rule === args.rule && a.subject === subject) ?? null;
      }
      if (!row) return { alertId: null };
      if (args.firing) logger.warn({ alert: row }, `alert fired: ${args.rule} ${subject}`);
      else logger.info({ alert: row }, `alert resolved: ${args.rule} ${subject}`);
      const final = Context.current().info.attempt >= NOTIFY_MAX_ATTEMPTS;
      const outcome = await deps.notifier.notify(alertNotice(row, args.firing ? 'fired' : 'resolved'), final);
      if (outcome.pending > 0) {
        throw ApplicationFailure.retryable(
          `${outcome.pending} alert notifications will be retried`,
          'DeliveryPending',
        );
      }
      return { alertId: row.alertId };
    },
  };
}

export type MailboxActivities = ReturnType<typeof createMailboxActivities>;

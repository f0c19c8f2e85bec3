import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface SentMail {
  from: string;
  to: string[];
  raw: string;
  /** The name the sender gave in EHLO (which replica sent it, when each has its own). */
  helo: string;
}

export interface SmtpSink {
  port: number;
  /** `smtp://127.0.0.1:<port>` for SMTP_URL */
  url: string;
  /** Every accepted message, in arrival order. */
  mails: SentMail[];
  close(): Promise<void>;
}

/**
 * A loopback SMTP server that keeps what it accepts (send-email and notification tests).
 * `refuse` answers RCPT TO of an address with an SMTP code (550: permanent, 451: try later).
 * `answerDelayMs` holds the answer to DATA.
 */
export async function startSmtpSink(
  options: {
    refuse?: (address: string) => number | undefined;
    /**
     * How long the 250 after DATA waits, read per message: the message is already in `mails` while
     * the sender waits (a slow relay; a sender paused or killed in that window).
     */
    answerDelayMs?: () => number;
  } = {},
): Promise<SmtpSink> {
  const mails: SentMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onRcptTo(address, _session, callback) {
      const code = options.refuse?.(address.address);
      if (code === undefined) return callback();
      callback(Object.assign(new Error(code >= 500 ? 'no such user' : 'try later'), { responseCode: code }));
    },
    onData(stream, session, callback) {
      let raw = '';
      stream.on('data', (chunk) => {
        raw += chunk;
      });
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          helo: session.hostNameAppearsAs,
        });
        const delay = options.answerDelayMs?.() ?? 0;
        if (delay > 0) setTimeout(() => callback(), delay);
        else callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    mails,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

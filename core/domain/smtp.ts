// What the SMTP relay said, for the send-email step and the email notification channel alike.

/**
 * The address check of send-email recipients and email subscriptions: a local part, `@`, and a domain
 * with a dot that is neither its first nor its last character. The domain reads "one character, no
 * dots, the first dot, the rest": it used to be `[^…]+\.[^…]+` with the dot inside both classes,
 * whose every dot was a split to try again, quadratic in the address (a 100 kB one took ~20 s).
 */
export const EMAIL_ADDRESS = /^[^\s@<>,;"]+@[^\s@<>,;"][^\s@<>,;".]*\.[^\s@<>,;"]+$/;

export interface SmtpOutcome {
  code: number | undefined;
  message: string;
  /** 5xx (e.g. unknown recipient) is final; connection problems and 4xx are worth retrying. */
  permanent: boolean;
}

export function smtpOutcome(err: unknown): SmtpOutcome {
  const { responseCode, message } = err as { responseCode?: number; message?: string };
  return {
    code: responseCode,
    message: message ?? String(err),
    permanent: responseCode !== undefined && responseCode >= 500,
  };
}

/**
 * Whether a failed send certainly left the relay without the message: it answered with an error
 * code, or was never reached (no connection, no greeting). Otherwise the connection broke while the
 * message was on its way, and the relay may have accepted it.
 */
export function certainlyNotAccepted(err: unknown): boolean {
  const { responseCode, syscall, timeoutType } = err as {
    responseCode?: number;
    syscall?: string;
    timeoutType?: string;
  };
  return (
    responseCode !== undefined ||
    syscall === 'connect' ||
    syscall === 'getaddrinfo' ||
    timeoutType === 'CONNECT_TIMEOUT' ||
    timeoutType === 'GREETING_TIMEOUT'
  );
}

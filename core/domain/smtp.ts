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

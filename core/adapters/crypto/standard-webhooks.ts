import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

// Standard Webhooks (standardwebhooks.com), the one convention for both directions: outbound
// notifications are signed with it and inbound triggers (/hooks/<name>) are verified with it.
// The reference library (`standardwebhooks` on npm) hard-codes its 5-minute window and reads the
// clock itself; the window is configuration here and tests pass the time, so this is the spec's
// few lines on node:crypto, checked against the spec's published test vector (ADR 0048).

export const WEBHOOK_ID_HEADER = 'webhook-id';
export const WEBHOOK_TIMESTAMP_HEADER = 'webhook-timestamp';
export const WEBHOOK_SIGNATURE_HEADER = 'webhook-signature';

const PREFIX = 'whsec_';

/** `whsec_<base64 of 32 random bytes>`: the form Standard Webhooks libraries take as is. */
export function newWebhookSecret(): string {
  return `${PREFIX}${randomBytes(32).toString('base64')}`;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Null when `secret` is a well-formed `whsec_<base64>` of 24 to 64 bytes; else why not. */
export function secretProblem(secret: string): string | null {
  if (!secret.startsWith(PREFIX)) return 'must start with whsec_';
  const encoded = secret.slice(PREFIX.length);
  if (!BASE64.test(encoded)) return 'must be whsec_ followed by standard base64';
  const bytes = Buffer.from(encoded, 'base64').length;
  if (bytes < 24 || bytes > 64) return `must hold 24 to 64 bytes (holds ${bytes})`;
  return null;
}

/**
 * The HMAC key of a secret: the base64 after `whsec_`, as every Standard Webhooks library reads it.
 * A secret without the prefix (a subscription made before ADR 0048 with a secret of its own) is
 * used as its raw UTF-8 bytes, like the reference library's `format: "raw"`.
 */
export function signingKey(secret: string): Buffer {
  return secret.startsWith(PREFIX)
    ? Buffer.from(secret.slice(PREFIX.length), 'base64')
    : Buffer.from(secret, 'utf8');
}

/** `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`. */
export function signWebhook(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: string | Buffer,
): string {
  const hmac = createHmac('sha256', signingKey(secret));
  hmac.update(`${id}.${timestampSeconds}.`);
  hmac.update(body);
  return `v1,${hmac.digest('base64')}`;
}

/** The three headers of one signed request. */
export function webhookHeaders(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: string | Buffer,
): Record<string, string> {
  return {
    [WEBHOOK_ID_HEADER]: id,
    [WEBHOOK_TIMESTAMP_HEADER]: String(timestampSeconds),
    [WEBHOOK_SIGNATURE_HEADER]: signWebhook(secret, id, timestampSeconds, body),
  };
}

export type WebhookRefusal = 'missing-headers' | 'stale-timestamp' | 'future-timestamp' | 'bad-signature';

export type WebhookCheck =
  | { ok: true; id: string; timestamp: number }
  | { ok: false; reason: WebhookRefusal };

type HeaderBag = Record<string, string | string[] | undefined>;

const header = (headers: HeaderBag, name: string): string | undefined => {
  const value = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
};

/**
 * What a receiver runs: the three headers present, the timestamp within `toleranceSeconds` of
 * `nowSeconds` either way, and one of the space-separated `v1,` signatures equal (constant time)
 * to the expected one. `headers`: lower-case names, as node:http gives them.
 */
export function verifyWebhook(
  secret: string,
  headers: HeaderBag,
  body: string | Buffer,
  nowSeconds: number,
  toleranceSeconds = 300,
): WebhookCheck {
  const id = header(headers, WEBHOOK_ID_HEADER);
  const timestampText = header(headers, WEBHOOK_TIMESTAMP_HEADER);
  const signatures = header(headers, WEBHOOK_SIGNATURE_HEADER);
  if (!id || !timestampText || !signatures) return { ok: false, reason: 'missing-headers' };
  if (!/^\d{1,12}$/.test(timestampText)) return { ok: false, reason: 'missing-headers' };
  const timestamp = Number(timestampText);
  if (nowSeconds - timestamp > toleranceSeconds) return { ok: false, reason: 'stale-timestamp' };
  if (timestamp - nowSeconds > toleranceSeconds) return { ok: false, reason: 'future-timestamp' };
  const expected = Buffer.from(signWebhook(secret, id, timestamp, body).slice(3));
  for (const versioned of signatures.split(' ')) {
    const [version, signature] = versioned.split(',', 2);
    if (version !== 'v1' || !signature) continue;
    const given = Buffer.from(signature);
    if (given.length === expected.length && timingSafeEqual(given, expected))
      return { ok: true, id, timestamp };
  }
  return { ok: false, reason: 'bad-signature' };
}

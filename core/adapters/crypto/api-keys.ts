import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

// Key format `rpa_<prefix>_<secret>`: the prefix (8 base62-ish characters) finds the row, the secret
// (32 random bytes, base64url) is what makes the key unguessable. Only SHA-256(key) is stored (ADR 0011).

const PREFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const KEY_PATTERN = /^rpa_([a-z0-9]{8})_([A-Za-z0-9_-]{43,})$/;

export interface GeneratedKey {
  key: string;
  prefix: string;
  hash: string;
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function generateKey(): GeneratedKey {
  const bytes = randomBytes(8);
  const prefix = Array.from(bytes, (byte) => PREFIX_ALPHABET[byte % PREFIX_ALPHABET.length]).join('');
  const key = `rpa_${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, hash: hashKey(key) };
}

/** The prefix of a well-formed key, or null: malformed keys never reach the database. */
export function keyPrefix(key: string): string | null {
  return KEY_PATTERN.exec(key)?.[1] ?? null;
}

/** Constant-time comparison of a presented key with a stored hash. */
export function keyMatches(key: string, storedHash: string): boolean {
  const presented = Buffer.from(hashKey(key), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

/** `90d`, `12h`, `30m` → milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d{1,6})([dhm])$/.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a duration like 90d, 12h or 30m`);
  const unit = { d: 86_400_000, h: 3_600_000, m: 60_000 }[match[2] as 'd' | 'h' | 'm'];
  return Number(match[1]) * unit;
}

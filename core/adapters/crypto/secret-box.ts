import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

// Secrets at rest: AES-256-GCM with a random 96-bit IV per value and the secret's name as
// additional authenticated data (a ciphertext moved to another name does not decrypt).
// SECRETS_KEYS = "id:base64key,id2:base64key2": the first encrypts, all decrypt (rotation, ADR 0014).

export interface Keyring {
  current: { id: string; key: Buffer };
  keys: Map<string, Buffer>;
}

export interface Sealed {
  keyId: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

export function parseKeyring(text: string): Keyring {
  const keys = new Map<string, Buffer>();
  let current: Keyring['current'] | undefined;
  for (const entry of text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const colon = entry.indexOf(':');
    const id = entry.slice(0, colon);
    const key = Buffer.from(entry.slice(colon + 1), 'base64');
    if (colon < 1 || !/^[A-Za-z0-9_-]{1,32}$/.test(id)) throw new Error('each entry must be id:base64key');
    if (key.length !== 32) throw new Error(`key "${id}" must be 32 bytes, base64-encoded`);
    if (keys.has(id)) throw new Error(`key id "${id}" appears twice`);
    keys.set(id, key);
    current ??= { id, key };
  }
  if (!current) throw new Error('give at least one id:base64key');
  return { current, keys };
}

/** A new random key entry, e.g. for the launcher's local keyring. */
export function newKeyEntry(id: string): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}

const aad = (name: string) => Buffer.from(`rpa-secret:${name}`, 'utf8');

export function seal(keyring: Keyring, name: string, value: string): Sealed {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyring.current.key, iv);
  cipher.setAAD(aad(name));
  const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return {
    keyId: keyring.current.id,
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ciphertext: ciphertext.toString('base64'),
  };
}

export class SecretDecryptError extends Error {
  override name = 'SecretDecryptError';
}

/** Throws SecretDecryptError (never including the value) when the key is unknown or the data was altered. */
export function open(keyring: Keyring, name: string, sealed: Sealed): string {
  const key = keyring.keys.get(sealed.keyId);
  if (!key)
    throw new SecretDecryptError(
      `secret "${name}" is encrypted with key "${sealed.keyId}", which is not configured`,
    );
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
    decipher.setAAD(aad(name));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    return Buffer.concat([
      decipher.update(Buffer.from(sealed.ciphertext, 'base64')),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    throw new SecretDecryptError(`secret "${name}" could not be decrypted (wrong key or altered data)`);
  }
}

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Keyring } from '../../config-fields';

// Secrets at rest: AES-256-GCM with a random 96-bit IV per value and the secret's name as
// additional authenticated data (a ciphertext moved to another name does not decrypt).
// SECRETS_KEYS = "id:base64key,id2:base64key2": the first encrypts, all decrypt (rotation, ADR 0014).

export interface Sealed {
  keyId: string;
  iv: string;
  tag: string;
  ciphertext: string;
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

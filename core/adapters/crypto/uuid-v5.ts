import { createHash } from 'node:crypto';

// RFC 9562 UUID version 5 (SHA-1, name-based): the same name in the same namespace always gives
// the same id. Email intake derives robot ids from Message-IDs with it, so a message seen twice
// (a restart, a reconnect, a second copy) names the same robot.

/** The namespace of robot ids derived from email messages (a fixed, random UUID). */
export const EMAIL_ROBOT_NAMESPACE = '0c5b7a5e-4f9e-4d36-9a51-2f3b8c1d6e70';

/** The namespace of robot ids derived from a trigger and a webhook-id (ADR 0048). */
export const HOOK_ROBOT_NAMESPACE = 'b3e1f6a2-7c4d-4e58-9f0a-6d2c8b5e4a17';

export function uuidV5(name: string, namespace: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  if (ns.length !== 16) throw new Error(`not a UUID: ${namespace}`);
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

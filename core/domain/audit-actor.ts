import { stripControlChars } from './text';

// Who an audit row says made a change (ADR 0033). The API names the key; everything that changes
// state without a request names itself, so every robot row and every key has an author on record.

const clean = (text: string) => stripControlChars(text, { singleLine: true }).slice(0, 100);

export const auditActor = {
  /** A request with a valid key (its id is also in `key_id`). */
  apiKey: (keyId: string) => `key:${keyId}`,
  /** A request without a valid key (refused, or a public route). */
  anonymous: 'anonymous',
  /** `rpa keys` and `rpa secrets` work on the database directly: the OS account that ran them. */
  cli: (user: string, host: string) => `cli:${clean(user)}@${clean(host)}`,
  /** A robot made from an email by a configured mailbox. */
  mailbox: (name: string) => `mailbox:${clean(name)}`,
  /** A robot made, or a request refused, by an inbound webhook trigger (POST /hooks/<name>). */
  trigger: (name: string) => `trigger:${clean(name)}`,
  /** A robot made by a firing of a robot schedule (docs/schedules.md). */
  schedule: (id: string) => `schedule:${clean(id)}`,
  /** A robot row restored from a Temporal workflow that had none. */
  reconciler: 'reconciler',
  /** A robot row first written by its own workflow's progress (started outside the API). */
  workflow: 'workflow',
} as const;

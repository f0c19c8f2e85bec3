import type { SecretRow } from '../schema';

/** What anyone outside the module worker may see of a secret: never the value. */
export interface SecretView {
  name: string;
  keyId: string;
  createdAt: string;
  updatedAt: string;
}

export function toSecretView(row: SecretRow): SecretView {
  return {
    name: row.name,
    keyId: row.keyId,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

import { randomUUID } from 'node:crypto';
import { asc, eq, ne } from 'drizzle-orm';
import { open, type Sealed, seal } from '../core/adapters/crypto/secret-box';
import type { Keyring } from '../core/config-fields';
import type { RobotPriority } from '../core/domain/robot';
import type { InputMapping } from '../core/domain/trigger';
import type { Database } from './client';
import { type TriggerRow, triggers } from './schema';
import { SecretKeys } from './secret-keys';

export interface NewTrigger {
  name: string;
  robotType: string;
  priority: RobotPriority;
  inputMapping: InputMapping;
  /** In clear; sealed here. */
  secret: string;
}

export type TriggerChange = Partial<Omit<NewTrigger, 'name'>>;

/** A second trigger of the same name. */
export class TriggerNameTakenError extends Error {}

const isUniqueViolation = (err: unknown): boolean => {
  const code = (value: unknown) => (value as { code?: unknown } | undefined)?.code;
  return code(err) === '23505' || code((err as { cause?: unknown }).cause) === '23505';
};

// The trigger id is the sealed secret's associated data: a ciphertext copied to another row does not open.
const sealedName = (triggerId: string) => `trigger:${triggerId}`;

/** Triggers with their signing secrets sealed under SECRETS_KEYS (like robot secrets, ADR 0014). */
export class TriggersRepository {
  private readonly keys: SecretKeys;

  constructor(
    private readonly db: Database,
    keys: string | undefined,
  ) {
    this.keys = new SecretKeys(keys);
  }

  /** False without SECRETS_KEYS: no trigger can be made or verified. */
  get configured(): boolean {
    return this.keys.configured;
  }

  private ring(): Keyring {
    return this.keys.ring();
  }

  private seal(triggerId: string, secret: string): Sealed {
    return seal(this.ring(), sealedName(triggerId), secret);
  }

  /** The signing secret in clear: to verify a request, never to show. */
  secretOf(row: TriggerRow): string {
    return open(this.ring(), sealedName(row.triggerId), row);
  }

  async create(trigger: NewTrigger): Promise<TriggerRow> {
    const triggerId = randomUUID();
    try {
      const [row] = await this.db
        .insert(triggers)
        .values({
          triggerId,
          name: trigger.name,
          robotType: trigger.robotType,
          priority: trigger.priority,
          inputMapping: trigger.inputMapping,
          ...this.seal(triggerId, trigger.secret),
        })
        .returning();
      if (!row) throw new Error('trigger insert returned no row');
      return row;
    } catch (err) {
      if (isUniqueViolation(err)) throw new TriggerNameTakenError(`trigger ${trigger.name} already exists`);
      throw err;
    }
  }

  async byName(name: string): Promise<TriggerRow | null> {
    const rows = await this.db.select().from(triggers).where(eq(triggers.name, name)).limit(1);
    return rows[0] ?? null;
  }

  async list(): Promise<TriggerRow[]> {
    return this.db.select().from(triggers).orderBy(asc(triggers.name));
  }

  /** Null when there is no such trigger. */
  async update(row: TriggerRow, change: TriggerChange): Promise<TriggerRow | null> {
    const { secret, ...fields } = change;
    const [updated] = await this.db
      .update(triggers)
      .set({
        ...fields,
        ...(secret !== undefined ? this.seal(row.triggerId, secret) : {}),
        updatedAt: new Date(),
      })
      .where(eq(triggers.triggerId, row.triggerId))
      .returning();
    return updated ?? null;
  }

  /** Re-seals every trigger secret not under the current key (`rpa secrets rotate`); returns how many. */
  async rotate(): Promise<number> {
    const ring = this.ring();
    const stale = await this.db.select().from(triggers).where(ne(triggers.keyId, ring.current.id));
    for (const row of stale) {
      await this.db
        .update(triggers)
        .set(this.seal(row.triggerId, this.secretOf(row)))
        .where(eq(triggers.triggerId, row.triggerId));
    }
    return stale.length;
  }

  async delete(name: string): Promise<boolean> {
    const rows = await this.db
      .delete(triggers)
      .where(eq(triggers.name, name))
      .returning({ triggerId: triggers.triggerId });
    return rows.length > 0;
  }
}

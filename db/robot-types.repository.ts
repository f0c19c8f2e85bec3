import { and, desc, eq, sql } from 'drizzle-orm';
import {
  type RobotTypeDefinition,
  type RobotTypeRegistration,
  storedRobotTypeSchema,
} from '../core/domain/robot-types';
import type { Database } from './client';
import { type RobotTypeRow, robotTypes } from './schema';

export interface StoredRobotType {
  definition: RobotTypeDefinition;
  createdAt: Date;
}

function isUniqueViolation(err: unknown): boolean {
  const code = (value: unknown) => (value as { code?: unknown } | undefined)?.code;
  return code(err) === '23505' || code((err as { cause?: unknown }).cause) === '23505';
}

function toStored(row: RobotTypeRow): StoredRobotType {
  // Stored bodies were validated on the way in; parsing again keeps the type honest after edits by hand.
  return { definition: storedRobotTypeSchema.parse(row.definition), createdAt: row.createdAt };
}

/** Registered robot types, versioned per name (1, 2, …); rows are never changed once written. */
export class RobotTypesRepository {
  constructor(private readonly db: Database) {}

  /** Stores the next version of a type. Two concurrent registrations of one name get two versions. */
  async register(body: RobotTypeRegistration): Promise<StoredRobotType> {
    for (let attempt = 0; ; attempt++) {
      const [current] = await this.db
        .select({ version: sql<number>`coalesce(max(${robotTypes.version}), 0)::int` })
        .from(robotTypes)
        .where(eq(robotTypes.name, body.name));
      const definition = { ...body, version: (current?.version ?? 0) + 1 };
      try {
        const [row] = await this.db
          .insert(robotTypes)
          .values({ name: body.name, version: definition.version, definition })
          .returning();
        if (!row) throw new Error(`robot type ${body.name} was not written`);
        return toStored(row);
      } catch (err) {
        // Another registration took this version first: take the next one.
        if (!isUniqueViolation(err) || attempt >= 4) throw err;
      }
    }
  }

  async latest(name: string): Promise<StoredRobotType | null> {
    const rows = await this.db
      .select()
      .from(robotTypes)
      .where(eq(robotTypes.name, name))
      .orderBy(desc(robotTypes.version))
      .limit(1);
    return rows[0] ? toStored(rows[0]) : null;
  }

  async find(name: string, version: number): Promise<StoredRobotType | null> {
    const rows = await this.db
      .select()
      .from(robotTypes)
      .where(and(eq(robotTypes.name, name), eq(robotTypes.version, version)))
      .limit(1);
    return rows[0] ? toStored(rows[0]) : null;
  }

  /** Every version of a type, newest first. */
  async versions(name: string): Promise<StoredRobotType[]> {
    const rows = await this.db
      .select()
      .from(robotTypes)
      .where(eq(robotTypes.name, name))
      .orderBy(desc(robotTypes.version));
    return rows.map(toStored);
  }

  /** The newest version of every registered type, by name. */
  async listLatest(): Promise<StoredRobotType[]> {
    const rows = await this.db
      .selectDistinctOn([robotTypes.name])
      .from(robotTypes)
      .orderBy(robotTypes.name, desc(robotTypes.version));
    return rows.map(toStored);
  }
}

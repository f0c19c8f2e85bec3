import { and, asc, desc, eq, ne, sql } from 'drizzle-orm';
import type { Database } from './client';
import { type ModuleRow, moduleRegistry } from './schema';

export interface ModuleRegistration {
  moduleName: string;
  moduleVersion: string;
  supportedRobotTypes: string[];
  registrationData: Record<string, unknown>;
}

/** Robot type `*` in supported_robot_types means "any type". */
export const ANY_ROBOT_TYPE = '*';

export class ModulesRepository {
  constructor(private readonly db: Database) {}

  async register(registration: ModuleRegistration): Promise<ModuleRow> {
    const set = {
      moduleVersion: registration.moduleVersion,
      supportedRobotTypes: registration.supportedRobotTypes,
      registrationData: registration.registrationData,
      isActive: true,
      healthStatus: 'healthy' as const,
      updatedAt: new Date(),
    };
    const rows = await this.db
      .insert(moduleRegistry)
      .values({ moduleName: registration.moduleName, ...set })
      .onConflictDoUpdate({ target: moduleRegistry.moduleName, set })
      .returning();
    const row = rows[0];
    if (!row) throw new Error(`module ${registration.moduleName} was not registered`);
    return row;
  }

  async list(): Promise<ModuleRow[]> {
    return this.db.select().from(moduleRegistry).orderBy(asc(moduleRegistry.moduleName));
  }

  /** Active, not unhealthy modules that take this robot type: exact support first, then by score and name. */
  async eligibleFor(robotType: string): Promise<ModuleRow[]> {
    const exact = sql<number>`case when ${robotType} = any(${moduleRegistry.supportedRobotTypes}) then 1 else 0 end`;
    return this.db
      .select()
      .from(moduleRegistry)
      .where(
        and(
          eq(moduleRegistry.isActive, true),
          ne(moduleRegistry.healthStatus, 'unhealthy'),
          sql`(${robotType} = any(${moduleRegistry.supportedRobotTypes}) or ${ANY_ROBOT_TYPE} = any(${moduleRegistry.supportedRobotTypes}))`,
        ),
      )
      .orderBy(desc(exact), desc(moduleRegistry.performanceScore), asc(moduleRegistry.moduleName));
  }
}

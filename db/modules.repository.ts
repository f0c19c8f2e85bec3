import { asc, eq, getTableColumns, isNotNull, sql } from 'drizzle-orm';
import type { ModuleHealth } from '../core/domain/load-balancer';
import type { PerformanceTier } from '../core/domain/performance';
import type { DeclaredStepKind, StepDeclaration } from '../core/domain/step-declarations';
import type { Database } from './client';
import { type ModuleRow, moduleRegistry, robots } from './schema';
import { replaceStepKinds, selectDeclaredStepKinds } from './step-kinds.repository';

/** Registrations take turns (a transaction-scoped advisory lock): each checks what the others declared. */
const REGISTRATION_LOCK_ID = 727_002;

export interface ModuleRegistration {
  moduleName: string;
  moduleVersion: string;
  supportedRobotTypes: string[];
  supportedSteps: string[];
  capacity: number;
  registrationData: Record<string, unknown>;
  /** The kinds it declares (docs/api.md, Modules); its earlier declarations of other kinds are removed. */
  steps?: StepDeclaration[];
}

/** What a registration may be refused over, read inside its transaction. */
export interface RegistrationState {
  existing: ModuleRow | null;
  /** Other modules' declarations of the kinds this registration declares. */
  declaredElsewhere: DeclaredStepKind[];
}

/** What routing needs of a module row; small enough to cache for every module. */
export interface ModuleRoute {
  name: string;
  version: string;
  isActive: boolean;
  draining: boolean;
  healthStatus: ModuleHealth;
  performanceScore: number;
  /** Capacity of one replica as registered; used when live state is unavailable. */
  capacity: number;
  supportedRobotTypes: string[];
  supportedSteps: string[];
}

export class ModulesRepository {
  constructor(private readonly db: Database) {}

  /**
   * Upsert of the module row and its declarations, in one transaction: a replica (re)starting
   * re-activates its module and makes it routable again. `verify` sees the state the registration
   * would change and may throw to refuse it; nothing is written then.
   */
  async register(
    registration: ModuleRegistration,
    verify?: (state: RegistrationState) => void,
  ): Promise<{ row: ModuleRow; created: boolean; steps: DeclaredStepKind[] }> {
    const steps = registration.steps ?? [];
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${REGISTRATION_LOCK_ID})`);
      if (verify) {
        const [existing] = await tx
          .select()
          .from(moduleRegistry)
          .where(eq(moduleRegistry.moduleName, registration.moduleName))
          .limit(1);
        const declaredElsewhere = await selectDeclaredStepKinds(tx, {
          kinds: steps.map((step) => step.kind),
          exceptModule: registration.moduleName,
        });
        verify({ existing: existing ?? null, declaredElsewhere });
      }
      const now = new Date();
      const set = {
        moduleVersion: registration.moduleVersion,
        supportedRobotTypes: registration.supportedRobotTypes,
        supportedSteps: registration.supportedSteps,
        capacity: registration.capacity,
        registrationData: registration.registrationData,
        isActive: true,
        healthStatus: 'healthy' as const,
        updatedAt: now,
      };
      const rows = await tx
        .insert(moduleRegistry)
        .values({ moduleName: registration.moduleName, ...set })
        .onConflictDoUpdate({ target: moduleRegistry.moduleName, set })
        // xmax = 0 only on a freshly inserted row: tells a new registration from a re-registration.
        .returning({ ...getTableColumns(moduleRegistry), created: sql<boolean>`xmax = 0` });
      const result = rows[0];
      if (!result) throw new Error(`module ${registration.moduleName} was not registered`);
      await replaceStepKinds(tx, registration.moduleName, steps, now);
      const { created, ...row } = result;
      return {
        row,
        created,
        steps: await selectDeclaredStepKinds(tx, { moduleName: registration.moduleName }),
      };
    });
  }

  async get(name: string): Promise<ModuleRow | null> {
    const rows = await this.db
      .select()
      .from(moduleRegistry)
      .where(eq(moduleRegistry.moduleName, name))
      .limit(1);
    return rows[0] ?? null;
  }

  async list(): Promise<ModuleRow[]> {
    return this.db.select().from(moduleRegistry).orderBy(asc(moduleRegistry.moduleName));
  }

  async routes(): Promise<ModuleRoute[]> {
    const rows = await this.list();
    return rows.map((row) => ({
      name: row.moduleName,
      version: row.moduleVersion,
      isActive: row.isActive,
      draining: row.draining,
      healthStatus: row.healthStatus,
      performanceScore: row.performanceScore,
      capacity: row.capacity,
      supportedRobotTypes: row.supportedRobotTypes,
      supportedSteps: row.supportedSteps,
    }));
  }

  async update(
    name: string,
    changes: Partial<Pick<ModuleRow, 'draining' | 'isActive' | 'healthStatus' | 'registrationData'>> & {
      performanceScore?: number;
      performanceTier?: PerformanceTier;
    },
  ): Promise<ModuleRow | null> {
    const rows = await this.db
      .update(moduleRegistry)
      .set({ ...changes, updatedAt: new Date() })
      .where(eq(moduleRegistry.moduleName, name))
      .returning();
    return rows[0] ?? null;
  }

  /** Robots per module and status: how work has spread. */
  async robotCounts(): Promise<Map<string, Record<string, number>>> {
    const rows = await this.db
      .select({ moduleName: robots.moduleName, status: robots.status, count: sql<number>`count(*)::int` })
      .from(robots)
      .where(isNotNull(robots.moduleName))
      .groupBy(robots.moduleName, robots.status);
    const counts = new Map<string, Record<string, number>>();
    for (const row of rows) {
      if (!row.moduleName) continue;
      const byStatus = counts.get(row.moduleName) ?? {};
      byStatus[row.status] = row.count;
      counts.set(row.moduleName, byStatus);
    }
    return counts;
  }
}

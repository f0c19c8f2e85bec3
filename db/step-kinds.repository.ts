import { and, asc, eq, inArray, ne, notInArray, type SQL } from 'drizzle-orm';
import type { DeclaredStepKind, StepDeclaration } from '../core/domain/step-declarations';
import type { Database } from './client';
import { moduleRegistry, moduleStepKinds } from './schema';

// The step kinds modules declared at registration (module_step_kinds). Written only inside a module's
// registration (ModulesRepository.register), read by the step catalog and robot-type registration.

const columns = {
  moduleName: moduleStepKinds.moduleName,
  kind: moduleStepKinds.kind,
  version: moduleStepKinds.version,
  description: moduleStepKinds.description,
  params: moduleStepKinds.paramsSchema,
  input: moduleStepKinds.inputSchema,
  output: moduleStepKinds.outputSchema,
  secretParams: moduleStepKinds.secretParams,
  updatedAt: moduleStepKinds.updatedAt,
  moduleActive: moduleRegistry.isActive,
};

/** Declarations with their module's state, by kind then module. */
export async function selectDeclaredStepKinds(
  db: Database,
  filter: { kinds?: readonly string[]; moduleName?: string; exceptModule?: string } = {},
): Promise<DeclaredStepKind[]> {
  const conditions: SQL[] = [];
  if (filter.kinds) conditions.push(inArray(moduleStepKinds.kind, [...filter.kinds]));
  if (filter.moduleName !== undefined) conditions.push(eq(moduleStepKinds.moduleName, filter.moduleName));
  if (filter.exceptModule !== undefined) conditions.push(ne(moduleStepKinds.moduleName, filter.exceptModule));
  if (filter.kinds?.length === 0) return [];
  return db
    .select(columns)
    .from(moduleStepKinds)
    .innerJoin(moduleRegistry, eq(moduleRegistry.moduleName, moduleStepKinds.moduleName))
    .where(and(...conditions))
    .orderBy(asc(moduleStepKinds.kind), asc(moduleStepKinds.moduleName));
}

/** A module's declarations become exactly `steps`: kinds it no longer declares are removed. */
export async function replaceStepKinds(
  db: Database,
  moduleName: string,
  steps: readonly StepDeclaration[],
  now: Date,
): Promise<void> {
  const kinds = steps.map((step) => step.kind);
  await db
    .delete(moduleStepKinds)
    .where(
      kinds.length > 0
        ? and(eq(moduleStepKinds.moduleName, moduleName), notInArray(moduleStepKinds.kind, kinds))
        : eq(moduleStepKinds.moduleName, moduleName),
    );
  for (const step of steps) {
    const set = {
      version: step.version,
      description: step.description,
      paramsSchema: step.params,
      inputSchema: step.input,
      outputSchema: step.output,
      secretParams: step.secretParams,
      updatedAt: now,
    };
    await db
      .insert(moduleStepKinds)
      .values({ moduleName, kind: step.kind, ...set })
      .onConflictDoUpdate({ target: [moduleStepKinds.moduleName, moduleStepKinds.kind], set });
  }
}

export class StepKindsRepository {
  constructor(private readonly db: Database) {}

  /** Every declaration, or those of some kinds (robot-type registration looks up the kinds it uses). */
  async declared(kinds?: readonly string[]): Promise<DeclaredStepKind[]> {
    return selectDeclaredStepKinds(this.db, kinds ? { kinds } : {});
  }

  async ofModule(moduleName: string): Promise<DeclaredStepKind[]> {
    return selectDeclaredStepKinds(this.db, { moduleName });
  }
}

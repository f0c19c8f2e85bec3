import { ConflictError } from '../core/domain/errors';
import { majorOf } from '../core/domain/semver';
import type { DeclaredStepKind, StepDeclaration } from '../core/domain/step-declarations';
import { isBuiltInKind, STEP_SECRET_PARAMS } from '../core/domain/step-kinds';
import { moduleTaskQueue } from '../core/domain/task-queues';
import type { ModuleStores } from '../db/module-stores';
import type { RegistrationState } from '../db/modules.repository';
import type { ModuleRow } from '../db/schema';
import { parseOrThrow } from './middleware/validate';
import { type RegisterModuleBody, registerModuleBody, type StepDeclarationBody } from './schemas';

// The one way a module gets registered: POST /v1/modules (external modules) and this project's own
// module worker (workers/module.worker.ts) both come through here, so both are held to the same
// document (docs/api.md, Modules) and the same version rules.

export interface ModuleRegistration {
  row: ModuleRow;
  created: boolean;
  /** Its declarations as stored. */
  steps: StepDeclaration[];
}

/** A declaration with its defaults: a built-in kind keeps its own secret params unless it restates them. */
function declaration(step: StepDeclarationBody): StepDeclaration {
  return {
    kind: step.kind,
    version: step.version,
    description: step.description,
    params: step.params,
    input: step.input,
    output: step.output,
    secretParams: step.secretParams ?? (isBuiltInKind(step.kind) ? [...STEP_SECRET_PARAMS[step.kind]] : []),
  };
}

export function declarationView(stored: DeclaredStepKind): StepDeclaration {
  const { kind, version, description, params, input, output, secretParams } = stored;
  return { kind, version, description, params, input, output, secretParams };
}

/**
 * The version rules, checked inside the registration's transaction. A module's new major version
 * under its registered name is refused: robots routed by the old contract must not land on a module
 * that changed it. A custom kind keeps one contract major across the active modules declaring it:
 * a step written against 1.x must run the same wherever routing sends it.
 */
function checkVersions(body: RegisterModuleBody, steps: StepDeclaration[], state: RegistrationState): void {
  const { existing, declaredElsewhere } = state;
  if (existing && majorOf(existing.moduleVersion) !== majorOf(body.version)) {
    throw new ConflictError(
      `module ${body.name} is registered at version ${existing.moduleVersion}; a new major version needs a new name (or deactivate and delete the old one first)`,
      { registeredVersion: existing.moduleVersion },
    );
  }
  for (const [index, step] of steps.entries()) {
    if (isBuiltInKind(step.kind)) continue;
    const others = declaredElsewhere.filter(
      (other) =>
        other.kind === step.kind && other.moduleActive && majorOf(other.version) !== majorOf(step.version),
    );
    if (others.length === 0) continue;
    const by = others.map((other) => `${other.moduleName} (${other.version})`).join(', ');
    const message =
      `step kind ${step.kind} is declared at version ${others[0]?.version} by active module(s) ${by}; ` +
      'one kind, one contract major: make a new kind name for a breaking change';
    throw new ConflictError(message, {
      kind: step.kind,
      declaredBy: others.map((other) => ({ module: other.moduleName, version: other.version })),
      errors: [{ field: `body.steps.${index}.version`, message }],
    });
  }
}

export class ModuleRegistry {
  constructor(
    private readonly moduleStores: ModuleStores,
    /** Runs after every registration (the API drops its cached module lists). */
    private readonly onChanged: () => Promise<unknown> = async () => undefined,
  ) {}

  /**
   * Registers a module (or updates it) from its registration document: 400 for a document that is
   * not one, 409 for a version it may not take; nothing is written then. `origin` is kept with the
   * row, beside its task queue: who registered it, from where.
   */
  async register(document: unknown, origin: Record<string, unknown>): Promise<ModuleRegistration> {
    const body = parseOrThrow(registerModuleBody, document, 'body');
    const steps = (body.steps ?? []).map(declaration);
    const served = [...new Set([...steps.map((step) => step.kind), ...(body.supportedSteps ?? [])])];
    const {
      row,
      created,
      steps: stored,
    } = await this.moduleStores.modules.register(
      {
        moduleName: body.name,
        moduleVersion: body.version,
        supportedRobotTypes: body.supportedRobotTypes,
        supportedSteps: served,
        capacity: body.capacity,
        registrationData: { taskQueue: moduleTaskQueue(body.name), ...origin },
        steps,
      },
      (state) => checkVersions(body, steps, state),
    );
    await this.moduleStores.routingTable.invalidate();
    await this.onChanged();
    return { row, created, steps: stored.map(declarationView) };
  }
}

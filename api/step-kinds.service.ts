import { NotFoundError } from '../core/domain/errors';
import {
  ANY_OBJECT_SCHEMA,
  builtInParamsSchema,
  currentDeclaration,
  type DeclaredStepKind,
} from '../core/domain/step-declarations';
import {
  BUILT_IN_STEPS_VERSION,
  isBuiltInKind,
  STEP_DESCRIPTIONS,
  STEP_KINDS,
  STEP_SECRET_PARAMS,
  WORKFLOW_STEP_KINDS,
} from '../core/domain/step-kinds';
import { moduleSnapshots } from '../db/module-snapshots';
import type { ModuleStores } from '../db/module-stores';

export interface StepKindModule {
  name: string;
  /** The module build's version. */
  version: string;
  /** The kind's contract version this module declared; null when it lists the kind without declaring it. */
  kindVersion: string | null;
  /** At least one replica heartbeats now: a step of this kind routed there would be picked up. */
  live: boolean;
  replicas: number;
  isActive: boolean;
  draining: boolean;
}

export interface StepKindView {
  name: string;
  builtIn: boolean;
  /** `workflow`: the workflow runs it (timer, wait, control queue); `module`: an activity on a module. */
  runsOn: 'workflow' | 'module';
  /** Built-in: the built-in steps' version; custom: the highest declared by an active module. */
  version: string;
  description: string;
  paramsSchema: Record<string, unknown>;
  inputSchema: Record<string, unknown>;
  outputSchema: Record<string, unknown>;
  secretParams: readonly string[];
  /** Registered modules that serve the kind; always empty for `workflow` kinds. */
  modules: StepKindModule[];
}

type StaticView = Omit<StepKindView, 'modules'>;

/** A custom kind as its current declaration says (core/domain/step-declarations.ts). */
function customView(current: DeclaredStepKind): StaticView {
  return {
    name: current.kind,
    builtIn: false,
    runsOn: 'module',
    version: current.version,
    description: current.description,
    paramsSchema: current.params,
    inputSchema: current.input,
    outputSchema: current.output,
    secretParams: current.secretParams,
  };
}

/** Declarations grouped by kind, in kind order. */
function byKind(declared: DeclaredStepKind[]): Map<string, DeclaredStepKind[]> {
  const groups = new Map<string, DeclaredStepKind[]>();
  for (const declaration of declared) {
    const group = groups.get(declaration.kind) ?? [];
    group.push(declaration);
    groups.set(declaration.kind, group);
  }
  return groups;
}

/**
 * The step catalog: the built-in kinds, then every custom kind any module (active or not) has
 * declared, each with its schemas and the modules serving it.
 */
export class StepKindsService {
  // The built-in part never changes at run time: converted once.
  private readonly builtIn: StaticView[] = STEP_KINDS.map((kind) => ({
    name: kind,
    builtIn: true,
    runsOn: WORKFLOW_STEP_KINDS.includes(kind) ? 'workflow' : 'module',
    version: BUILT_IN_STEPS_VERSION,
    description: STEP_DESCRIPTIONS[kind],
    paramsSchema: builtInParamsSchema(kind),
    inputSchema: { ...ANY_OBJECT_SCHEMA },
    outputSchema: { ...ANY_OBJECT_SCHEMA },
    secretParams: STEP_SECRET_PARAMS[kind],
  }));

  constructor(
    private readonly moduleStores: ModuleStores,
    private readonly options: { targetLatencyMs: number },
  ) {}

  async list(): Promise<StepKindView[]> {
    const declared = await this.moduleStores.stepKinds.declared();
    const servers = await this.servers(declared);
    const custom: StaticView[] = [];
    for (const [kind, declarations] of byKind(declared)) {
      const current = currentDeclaration(declarations);
      if (!isBuiltInKind(kind) && current) custom.push(customView(current));
    }
    return [...this.builtIn, ...custom].map((view) => ({ ...view, modules: servers.get(view.name) ?? [] }));
  }

  async get(kind: string): Promise<StepKindView> {
    const builtIn = this.builtIn.find((candidate) => candidate.name === kind);
    const declared = await this.moduleStores.stepKinds.declared([kind]);
    const current = builtIn ? undefined : currentDeclaration(declared);
    const view = builtIn ?? (current ? customView(current) : undefined);
    if (!view) throw new NotFoundError(`step kind ${kind} not found`);
    const servers = await this.servers(declared);
    return { ...view, modules: servers.get(view.name) ?? [] };
  }

  /**
   * Modules per kind: those whose registration lists it, declared or (legacy, built-in kinds)
   * not. Uncached, unlike the module list: the catalog has no per-module counts to pay for, and a
   * caller checking whether a kind is served wants liveness as of now.
   */
  private async servers(declared: DeclaredStepKind[]): Promise<Map<string, StepKindModule[]>> {
    const [rows, snapshots] = await Promise.all([
      this.moduleStores.modules.list(),
      moduleSnapshots(this.moduleStores, this.options.targetLatencyMs, Date.now()),
    ]);
    const replicas = new Map(snapshots.map((snapshot) => [snapshot.name, snapshot.liveReplicas]));
    const kindVersions = new Map(
      declared.map((declaration) => [`${declaration.moduleName}\n${declaration.kind}`, declaration.version]),
    );
    const modules = new Map<string, StepKindModule[]>();
    for (const row of rows) {
      const live = replicas.get(row.moduleName) ?? 0;
      for (const kind of row.supportedSteps) {
        const list = modules.get(kind) ?? [];
        list.push({
          name: row.moduleName,
          version: row.moduleVersion,
          kindVersion: kindVersions.get(`${row.moduleName}\n${kind}`) ?? null,
          live: live > 0,
          replicas: live,
          isActive: row.isActive,
          draining: row.draining,
        });
        modules.set(kind, list);
      }
    }
    return modules;
  }
}

import { z } from 'zod';
import { NotFoundError } from '../core/domain/errors';
import {
  STEP_KINDS,
  STEP_SECRET_PARAMS,
  type StepKind,
  WORKFLOW_STEP_KINDS,
} from '../core/domain/step-kinds';
import { STEP_PARAMS_SCHEMAS } from '../core/domain/step-params';
import { moduleSnapshots } from '../db/module-snapshots';
import type { ModuleStores } from '../db/module-stores';

export interface StepKindModule {
  name: string;
  version: string;
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
  paramsSchema: Record<string, unknown>;
  secretParams: readonly string[];
  /** Registered modules that list the kind; always empty for `workflow` kinds. */
  modules: StepKindModule[];
}

type StaticView = Omit<StepKindView, 'modules'>;

/** Params as a caller writes them (`io: 'input'`: defaulted params are optional). */
function paramsJsonSchema(kind: StepKind): Record<string, unknown> {
  const schema = STEP_PARAMS_SCHEMAS[kind];
  // Refinements (header names, status ranges) have no JSON Schema form; registration still runs them.
  return schema ? z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) : {};
}

/** The step catalog: built-in kinds, their params schemas, and the modules serving each. */
export class StepKindsService {
  // The built-in part never changes at run time: converted once.
  private readonly builtIn: StaticView[] = STEP_KINDS.map((kind) => ({
    name: kind,
    builtIn: true,
    runsOn: WORKFLOW_STEP_KINDS.includes(kind) ? 'workflow' : 'module',
    paramsSchema: paramsJsonSchema(kind),
    secretParams: STEP_SECRET_PARAMS[kind],
  }));

  constructor(
    private readonly moduleStores: ModuleStores,
    private readonly options: { targetLatencyMs: number },
  ) {}

  async list(): Promise<StepKindView[]> {
    const servers = await this.servers();
    return this.builtIn.map((view) => ({ ...view, modules: servers.get(view.name) ?? [] }));
  }

  async get(kind: string): Promise<StepKindView> {
    const view = this.builtIn.find((candidate) => candidate.name === kind);
    if (!view) throw new NotFoundError(`step kind ${kind} not found`);
    const servers = await this.servers();
    return { ...view, modules: servers.get(view.name) ?? [] };
  }

  /**
   * Modules per kind. Uncached, unlike the module list: the catalog has no per-module counts to
   * pay for, and a caller checking whether a kind is served wants liveness as of now.
   */
  private async servers(): Promise<Map<string, StepKindModule[]>> {
    const [rows, snapshots] = await Promise.all([
      this.moduleStores.modules.list(),
      moduleSnapshots(this.moduleStores, this.options.targetLatencyMs, Date.now()),
    ]);
    const replicas = new Map(snapshots.map((snapshot) => [snapshot.name, snapshot.liveReplicas]));
    const byKind = new Map<string, StepKindModule[]>();
    for (const row of rows) {
      const live = replicas.get(row.moduleName) ?? 0;
      for (const kind of row.supportedSteps) {
        const list = byKind.get(kind) ?? [];
        list.push({
          name: row.moduleName,
          version: row.moduleVersion,
          live: live > 0,
          replicas: live,
          isActive: row.isActive,
          draining: row.draining,
        });
        byKind.set(kind, list);
      }
    }
    return byKind;
  }
}

import { selectModule } from '../core/domain/load-balancer';
import type { LoadBalancerWeights } from '../core/domain/load-balancer-weights';
import type { StoredDecision } from '../core/domain/robot';
import { moduleSelections, selectionDuration } from '../core/observability/metrics';
import { moduleSnapshots } from '../db/module-snapshots';
import type { ModuleStores } from '../db/module-stores';

export interface SelectionDeps {
  moduleStores: ModuleStores;
  weights: LoadBalancerWeights;
  targetLatencyMs: number;
}

export interface SelectionRequest {
  robotType: string;
  /** The step kinds the module must serve: every module kind of the type, or one step's kind. */
  steps: string[];
  exclude?: string[];
  /** The module that ran the robot's previous module step, kept while eligible. */
  prefer?: string;
}

export interface ModuleChoice {
  moduleName: string | null;
  decision: StoredDecision;
}

const STORED_CANDIDATES = 10;

export function createSelectionActivities({ moduleStores, weights, targetLatencyMs }: SelectionDeps) {
  return {
    /**
     * Scores every registered module for a robot and picks the best (core/domain/load-balancer.ts).
     * Read-only, so safe to retry; the decision is returned whole so the workflow can store it.
     */
    async selectModule(request: SelectionRequest): Promise<ModuleChoice> {
      const stop = selectionDuration.startTimer();
      const now = Date.now();
      const exclude = request.exclude ?? [];
      const snapshots = await moduleSnapshots(moduleStores, targetLatencyMs, now);
      const { robotType, steps, prefer } = request;
      const decision = selectModule(
        snapshots,
        { robotType, steps, exclude, ...(prefer ? { prefer } : {}) },
        weights,
      );
      if (snapshots.degraded)
        decision.reason = `live module state unavailable, routed by the registry: ${decision.reason}`;
      stop();
      moduleSelections.inc({
        result: decision.winner ? 'chosen' : 'none',
        failover: String(exclude.length > 0),
      });
      return {
        moduleName: decision.winner,
        decision: {
          ...decision,
          candidates: decision.candidates.slice(0, STORED_CANDIDATES),
          candidatesOmitted: Math.max(0, decision.candidates.length - STORED_CANDIDATES),
          decidedAt: new Date(now).toISOString(),
          exclude,
        },
      };
    },
  };
}

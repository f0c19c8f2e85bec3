import { type RoutingDecision, selectModule } from '../core/domain/load-balancer';
import type { LoadBalancerWeights } from '../core/domain/load-balancer-weights';
import type { StoredDecision } from '../core/domain/robot';
import { moduleSelections, selectionDuration } from '../core/observability/metrics';
import { moduleSnapshots } from '../db/module-snapshots';
import type { ModuleStores } from '../db/module-stores';

export interface SelectionDeps {
  /** Its routing snapshot, when it has one, answers instead of a read of every store per call. */
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
     * Scores every registered module for a robot and picks the best (core/domain/load-balancer.ts),
     * from the routing snapshot when it is trusted (ADR 0041), else from the stores as read now.
     * Read-only, so safe to retry; the decision is returned whole so the workflow can store it.
     */
    async selectModule(request: SelectionRequest): Promise<ModuleChoice> {
      const stop = selectionDuration.startTimer();
      const now = Date.now();
      const exclude = request.exclude ?? [];
      const { robotType, steps, prefer } = request;
      const scoring = { robotType, steps, exclude, ...(prefer ? { prefer } : {}) };
      const fromSnapshot = await moduleStores.routingSnapshot?.decide(
        scoring,
        weights,
        targetLatencyMs,
        now,
        STORED_CANDIDATES,
      );
      let decision: RoutingDecision;
      let candidatesTotal: number;
      // No winner from the snapshot is checked against the stores: a module registered a moment ago
      // may not have reached it yet, and a robot should not wait MODULE_WAIT_SECONDS for that.
      if (fromSnapshot?.winner) {
        ({ candidatesTotal, ...decision } = fromSnapshot);
      } else {
        const snapshots = await moduleSnapshots(moduleStores, targetLatencyMs, now);
        decision = selectModule(snapshots, scoring, weights);
        candidatesTotal = decision.candidates.length;
        if (snapshots.degraded)
          decision.reason = `live module state unavailable, routed by the registry: ${decision.reason}`;
      }
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
          candidatesOmitted: Math.max(0, candidatesTotal - STORED_CANDIDATES),
          decidedAt: new Date(now).toISOString(),
          exclude,
        },
      };
    },
  };
}

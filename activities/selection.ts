import type { ModulesRepository } from '../db/modules.repository';

export interface SelectionDeps {
  modules: ModulesRepository;
}

export interface ModuleChoice {
  moduleName: string;
  candidates: string[];
  reason: string;
}

export function createSelectionActivities({ modules }: SelectionDeps) {
  return {
    /**
     * Picks the module for a robot: active, not unhealthy, supporting its type (exact support
     * before `*`), then highest performance score, then name. Null when none is eligible; the
     * workflow then waits and asks again. The scoring load balancer replaces this rule.
     */
    async selectModule(request: { robotType: string }): Promise<ModuleChoice | null> {
      const eligible = await modules.eligibleFor(request.robotType);
      const winner = eligible[0];
      if (!winner) return null;
      return {
        moduleName: winner.moduleName,
        candidates: eligible.map((module) => module.moduleName),
        reason: winner.supportedRobotTypes.includes(request.robotType)
          ? `supports ${request.robotType}; best performance score ${winner.performanceScore}`
          : `accepts any robot type; best performance score ${winner.performanceScore}`,
      };
    },
  };
}

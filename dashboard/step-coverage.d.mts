// Types of step-coverage.mjs for the TypeScript tests (the browser module itself is plain JS).

export interface KindModule {
  name: string;
  live: boolean;
  replicas: number;
  isActive: boolean;
  draining: boolean;
}
export interface CatalogKind {
  name: string;
  runsOn: 'workflow' | 'module';
  modules: KindModule[];
}
export interface StepCoverage {
  runsOn: 'workflow' | 'module';
  servers: { name: string; replicas: number }[];
  problem: string | null;
}
export function stepCoverage(
  step: { kind: string },
  robotType: string,
  catalog: Map<string, CatalogKind>,
  modules: Map<string, { supportedRobotTypes?: string[] }>,
): StepCoverage;

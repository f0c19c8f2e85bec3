// Which modules would take a robot type's step right now, from the step catalog (GET /v1/step-kinds)
// and the module list (GET /v1/modules). A module step nobody can take leaves its robots `pending`
// (until maxPendingSeconds, when the type sets it), which the Robot types view warns about.
//
// A module takes a step when it serves the kind, has a live replica, is active, is not draining and
// runs this robot type (or any): the load balancer's eligibility rules that do not change from
// second to second. Health and circuits are left out: they recover without anyone acting.

const ANY_TYPE = '*';

/**
 * @typedef {{ name: string, live: boolean, replicas: number, isActive: boolean, draining: boolean }} KindModule
 * @typedef {{ name: string, runsOn: 'workflow' | 'module', modules: KindModule[] }} CatalogKind
 * @typedef {{ runsOn: 'workflow' | 'module', servers: { name: string, replicas: number }[],
 *   problem: string | null }} StepCoverage
 */

/**
 * @param {{ kind: string }} step
 * @param {string} robotType
 * @param {Map<string, CatalogKind>} catalog kinds by name
 * @param {Map<string, { supportedRobotTypes?: string[] }>} modules modules by name (for their robot types)
 * @returns {StepCoverage}
 */
export function stepCoverage(step, robotType, catalog, modules) {
  const kind = catalog.get(step.kind);
  if (!kind) {
    return { runsOn: 'module', servers: [], problem: `No module has registered kind ${step.kind}.` };
  }
  if (kind.runsOn === 'workflow') return { runsOn: 'workflow', servers: [], problem: null };
  if (kind.modules.length === 0) {
    return { runsOn: 'module', servers: [], problem: `No module serves ${step.kind}.` };
  }
  /** @type {string[]} */
  const refusals = [];
  const servers = [];
  for (const module of kind.modules) {
    const reasons = whyNot(module, robotType, modules.get(module.name));
    if (reasons.length === 0) servers.push({ name: module.name, replicas: module.replicas });
    else refusals.push(`${module.name}: ${reasons.join(', ')}`);
  }
  if (servers.length > 0) return { runsOn: 'module', servers, problem: null };
  const live = kind.modules.some((module) => module.live);
  const scope = live ? ` for robot type ${robotType}` : '';
  return {
    runsOn: 'module',
    servers,
    problem: `No live module serves ${step.kind}${scope} (${refusals.join('; ')}).`,
  };
}

/**
 * @param {KindModule} module
 * @param {string} robotType
 * @param {{ supportedRobotTypes?: string[] } | undefined} listed
 */
function whyNot(module, robotType, listed) {
  const reasons = [];
  if (!module.live) reasons.push('not live');
  if (!module.isActive) reasons.push('inactive');
  if (module.draining) reasons.push('draining');
  // Absent from the module list (registered a moment ago): its types are unknown, so not held against it.
  const types = listed?.supportedRobotTypes ?? [ANY_TYPE];
  if (!types.includes(ANY_TYPE) && !types.includes(robotType)) reasons.push(`does not run ${robotType}`);
  return reasons;
}

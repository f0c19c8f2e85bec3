// Module selection as a pure function of a snapshot: the workflow (or the selection activity)
// gathers the facts, this file only decides. Keeping it free of I/O and of the clock makes a
// decision replayable and lets the same code run inside a deterministic workflow.
//
// Every decision carries its own explanation (factors, rank, why each loser lost) because an
// operator asking "why did robot X land on module Y?" should not have to recompute scores.

import {
  DEFAULT_WEIGHTS,
  FACTOR_NAMES,
  type FactorName,
  type LoadBalancerWeights,
  validateWeights,
} from './load-balancer-weights';

export type CircuitState = 'closed' | 'open' | 'half-open';
export type ModuleHealth = 'healthy' | 'degraded' | 'unhealthy' | 'unknown';
export const ANY_TYPE = '*';

export interface ModuleSnapshot {
  name: string;
  isActive: boolean;
  draining: boolean;
  healthStatus: ModuleHealth;
  liveReplicas: number;
  /** Sum of live replicas' capacities. */
  capacity: number;
  /** Step activities running now on the module. */
  inFlight: number;
  /** 0..1 */
  performanceScore: number;
  /** 0..1, recent step failure share. */
  errorRate: number;
  circuit: CircuitState;
  /** '*' means any type. */
  supportedRobotTypes: string[];
  supportedSteps: string[];
}

export interface SelectionRequest {
  robotType: string;
  steps: string[];
  exclude?: string[];
  /**
   * The module that ran the robot's previous module step: it keeps the robot while it is eligible,
   * whatever the scores, so one robot's steps stay on one module (its data, caches and logs in one
   * place) and a score that flickers between two modules does not bounce the robot between them.
   */
  prefer?: string;
}

export interface ScoreFactors {
  performance: number;
  capacity: number;
  health: number;
  typeMatch: number;
}

export interface CandidateScore {
  moduleName: string;
  eligible: boolean;
  /** Empty when eligible. */
  ineligibleReasons: string[];
  /** Computed for every candidate, eligible or not. */
  factors: ScoreFactors;
  /** Weighted sum, rounded to 4 decimals; 0 for ineligible. */
  score: number;
  /** 1 = winner, among eligible only; null if ineligible. */
  rank: number | null;
  /** Null for the winner. */
  lostBecause: string | null;
}

export interface RoutingDecision {
  robotType: string;
  winner: string | null;
  /** Exactly 'no eligible module' when winner is null. */
  reason: string;
  /** Eligible first by rank, then ineligible by name. */
  candidates: CandidateScore[];
  weights: LoadBalancerWeights;
}

export const NO_ELIGIBLE_MODULE = 'no eligible module';

// Degraded and unknown both get half credit: an unknown module may be fine (just registered,
// no heartbeat judged yet) but should not beat one we know is healthy.
const HEALTH_BASE: Record<ModuleHealth, number> = { healthy: 1, degraded: 0.5, unknown: 0.5, unhealthy: 0 };

// NaN from a bad snapshot must not poison the ordering (NaN compares false both ways), so it
// counts as the worst value.
function clamp01(value: number): number {
  if (Number.isNaN(value)) return 0;
  return Math.min(1, Math.max(0, value));
}

function round4(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

function typeMatchFactor(supported: readonly string[], robotType: string): number {
  if (supported.includes(robotType)) return 1;
  // A specialist module should beat a generalist at equal everything else.
  if (supported.includes(ANY_TYPE)) return 0.5;
  return 0;
}

function computeFactors(module: ModuleSnapshot, robotType: string): ScoreFactors {
  const capacity = module.capacity > 0 ? 1 - module.inFlight / module.capacity : 0;
  const health =
    HEALTH_BASE[module.healthStatus] *
    (1 - clamp01(module.errorRate)) *
    // Half-open lets probe traffic through; prefer modules whose circuit is fully closed.
    (module.circuit === 'half-open' ? 0.5 : 1);
  return {
    performance: clamp01(module.performanceScore),
    capacity: clamp01(capacity),
    health: clamp01(health),
    typeMatch: typeMatchFactor(module.supportedRobotTypes, robotType),
  };
}

function ineligibleReasonsOf(module: ModuleSnapshot, request: SelectionRequest, typeMatch: number): string[] {
  const reasons: string[] = [];
  if (!module.isActive) reasons.push('inactive');
  if (module.draining) reasons.push('draining');
  if (module.healthStatus === 'unhealthy') reasons.push('unhealthy');
  if (module.circuit === 'open') reasons.push('circuit open');
  // Written as "not > 0" so a NaN replica count is treated as none.
  if (!(module.liveReplicas > 0)) reasons.push('no live replica');
  if (typeMatch === 0) reasons.push(`does not support robot type "${request.robotType}"`);
  const supportedSteps = new Set(module.supportedSteps);
  const missing = [...new Set(request.steps)].filter((step) => !supportedSteps.has(step));
  if (missing.length > 0) reasons.push(`missing steps: ${missing.join(', ')}`);
  if (request.exclude?.includes(module.name)) reasons.push('excluded after failover');
  // A full module (inFlight >= capacity) is deliberately not a reason: when every module is
  // full the work should still queue on the best one rather than find no module at all.
  return reasons;
}

function ineligibleExplanation(reasons: readonly string[]): string {
  return `ineligible: ${reasons.join('; ')}`;
}

function scoreUnchecked(
  module: ModuleSnapshot,
  request: SelectionRequest,
  weights: LoadBalancerWeights,
): CandidateScore {
  const factors = computeFactors(module, request.robotType);
  const ineligibleReasons = ineligibleReasonsOf(module, request, factors.typeMatch);
  const eligible = ineligibleReasons.length === 0;
  let sum = 0;
  for (const name of FACTOR_NAMES) sum += weights[name] * factors[name];
  return {
    moduleName: module.name,
    eligible,
    ineligibleReasons,
    factors,
    score: eligible ? round4(sum) : 0,
    rank: null,
    // Why an ineligible module lost does not depend on the others, so it is known already;
    // for eligible ones only selectModule knows the winner to compare against.
    lostBecause: eligible ? null : ineligibleExplanation(ineligibleReasons),
  };
}

/** Scores one module; rank is left null and lostBecause is filled only for an ineligible module (selectModule fills the rest). */
export function scoreModule(
  module: ModuleSnapshot,
  request: SelectionRequest,
  weights: LoadBalancerWeights,
): CandidateScore {
  return scoreUnchecked(module, request, validateWeights(weights));
}

// Infinity for a module with no capacity so that it sorts after every module that has room.
function utilisation(module: ModuleSnapshot): number {
  if (!(module.capacity > 0)) return Number.POSITIVE_INFINITY;
  const used = Number.isNaN(module.inFlight) ? 0 : Math.max(0, module.inFlight);
  return used / module.capacity;
}

// Code-unit order rather than localeCompare: the result must not depend on the host's locale.
function compareNames(a: string, b: string): number {
  if (a < b) return -1;
  if (a > b) return 1;
  return 0;
}

export interface EligibleEntry {
  candidate: CandidateScore;
  utilisation: number;
}

// Rounded scores are compared so that the tie-break the explanation talks about is the one
// a reader sees in the printed numbers.
function compareEligible(a: EligibleEntry, b: EligibleEntry): number {
  if (a.candidate.score !== b.candidate.score) return b.candidate.score - a.candidate.score;
  if (a.utilisation !== b.utilisation) return a.utilisation < b.utilisation ? -1 : 1;
  return compareNames(a.candidate.moduleName, b.candidate.moduleName);
}

function formatFactors(factors: ScoreFactors): string {
  return FACTOR_NAMES.map((name) => `${name} ${factors[name].toFixed(2)}`).join(', ');
}

function formatScore(score: number): string {
  return score.toFixed(4);
}

function lossExplanation(loser: EligibleEntry, winner: EligibleEntry, weights: LoadBalancerWeights): string {
  const l = loser.candidate;
  const w = winner.candidate;
  if (l.score === w.score) {
    const on = loser.utilisation !== winner.utilisation ? 'utilisation' : 'name';
    return `tie on score; lost the tie-break on ${on}`;
  }
  // The decisive factor is the one that cost the most score, i.e. the largest weighted gap;
  // on equal gaps the factor that comes first in the formula is named.
  let decisive: FactorName | null = null;
  let largestGap = 0;
  for (const name of FACTOR_NAMES) {
    const gap = weights[name] * (w.factors[name] - l.factors[name]);
    if (gap > largestGap) {
      largestGap = gap;
      decisive = name;
    }
  }
  const head = `score ${formatScore(l.score)} < ${formatScore(w.score)}`;
  if (decisive === null) return head;
  const mine = l.factors[decisive].toFixed(2);
  const theirs = w.factors[decisive].toFixed(2);
  return `${head}: lower ${decisive} (${mine} vs ${theirs})`;
}

export function selectModule(
  modules: readonly ModuleSnapshot[],
  request: SelectionRequest,
  weights: LoadBalancerWeights = DEFAULT_WEIGHTS,
): RoutingDecision {
  const { candidatesTotal: _total, ...decision } = decideSelection(
    prepareSelection(modules, request, weights),
    request,
  );
  return decision;
}

/**
 * The part of a selection that depends only on the modules and on (robotType, steps): every
 * candidate scored, eligible ones in score order. A routing snapshot keeps it while the modules do
 * not change, so a call only applies its exclude and prefer (decideSelection). Treat as read-only.
 */
export interface PreparedSelection {
  robotType: string;
  steps: readonly string[];
  /** Eligible before `exclude`, best first. */
  eligible: readonly EligibleEntry[];
  /** By name. */
  ineligible: readonly CandidateScore[];
  weights: LoadBalancerWeights;
}

/** Scores `modules` for `request` ignoring its exclude and prefer, which decideSelection applies. */
export function prepareSelection(
  modules: readonly ModuleSnapshot[],
  request: Pick<SelectionRequest, 'robotType' | 'steps'>,
  weights: LoadBalancerWeights,
): PreparedSelection {
  validateWeights(weights);
  const base: SelectionRequest = { robotType: request.robotType, steps: request.steps };
  const eligible: EligibleEntry[] = [];
  const ineligible: CandidateScore[] = [];
  for (const module of modules) {
    const candidate = scoreUnchecked(module, base, weights);
    if (candidate.eligible) eligible.push({ candidate, utilisation: utilisation(module) });
    else ineligible.push(candidate);
  }
  eligible.sort(compareEligible);
  ineligible.sort(byName);
  // A copy, so a caller mutating its weights later cannot rewrite a recorded decision.
  return {
    robotType: request.robotType,
    steps: [...request.steps],
    eligible,
    ineligible,
    weights: { ...weights },
  };
}

/**
 * The prepared selection after some modules' facts changed (none added or removed): only those are
 * scored again and put in their place, the rest kept. Equal to prepareSelection over the new
 * modules, for O(changed × log n) comparisons instead of scoring and sorting every module, which
 * matters when each step's start and end moves one module's in-flight count.
 */
export function reprepareSelection(
  prepared: PreparedSelection,
  changed: readonly ModuleSnapshot[],
): PreparedSelection {
  const names = new Set(changed.map((module) => module.name));
  const eligible = prepared.eligible.filter((entry) => !names.has(entry.candidate.moduleName));
  const ineligible = prepared.ineligible.filter((candidate) => !names.has(candidate.moduleName));
  const base: SelectionRequest = { robotType: prepared.robotType, steps: [...prepared.steps] };
  for (const module of changed) {
    const candidate = scoreUnchecked(module, base, prepared.weights);
    if (candidate.eligible) {
      const entry = { candidate, utilisation: utilisation(module) };
      eligible.splice(
        insertionPoint(eligible, (other) => compareEligible(entry, other)),
        0,
        entry,
      );
    } else {
      ineligible.splice(
        insertionPoint(ineligible, (other) => byName(candidate, other)),
        0,
        candidate,
      );
    }
  }
  return { ...prepared, eligible, ineligible };
}

/** The first index whose item sorts after the new one (`compare(item) < 0`), by binary search. */
function insertionPoint<T>(sorted: readonly T[], compare: (item: T) => number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compare(sorted[middle] as T) < 0) high = middle;
    else low = middle + 1;
  }
  return low;
}

const byName = (a: CandidateScore, b: CandidateScore) => compareNames(a.moduleName, b.moduleName);

/** A module excluded by the request: the same reasons list ineligibleReasonsOf gives, in its order. */
function excluded(candidate: CandidateScore): CandidateScore {
  const ineligibleReasons = [...candidate.ineligibleReasons, 'excluded after failover'];
  return {
    ...candidate,
    eligible: false,
    ineligibleReasons,
    score: 0,
    lostBecause: ineligibleExplanation(ineligibleReasons),
  };
}

/**
 * Applies a request's exclude and prefer to a prepared selection. With `limit`, only the first
 * `limit` candidates are built (the explanations of the others are never read); `candidatesTotal`
 * says how many there were.
 */
export function decideSelection(
  prepared: PreparedSelection,
  request: Pick<SelectionRequest, 'exclude' | 'prefer'>,
  limit = Number.POSITIVE_INFINITY,
): RoutingDecision & { candidatesTotal: number } {
  const exclude = new Set(request.exclude ?? []);
  const candidatesTotal = prepared.eligible.length + prepared.ineligible.length;
  let eligible = prepared.eligible;
  let ineligible = prepared.ineligible;
  if (exclude.size > 0) {
    eligible = prepared.eligible.filter((entry) => !exclude.has(entry.candidate.moduleName));
    const dropped = prepared.eligible.filter((entry) => exclude.has(entry.candidate.moduleName));
    ineligible = prepared.ineligible.map((candidate) =>
      exclude.has(candidate.moduleName) ? excluded(candidate) : candidate,
    );
    if (dropped.length > 0)
      ineligible = [...ineligible, ...dropped.map((entry) => excluded(entry.candidate))].sort(byName);
  }
  // Where the previous step's module stands by score; kept, it moves to the front.
  const keptAt =
    request.prefer === undefined
      ? -1
      : eligible.findIndex((entry) => entry.candidate.moduleName === request.prefer);
  const kept = keptAt >= 0;
  const first = eligible[Math.max(keptAt, 0)];
  const usedWeights: LoadBalancerWeights = { ...prepared.weights };
  if (first === undefined) {
    return {
      robotType: prepared.robotType,
      winner: null,
      reason: NO_ELIGIBLE_MODULE,
      candidates: ineligible.slice(0, limit).map(copyCandidate),
      weights: usedWeights,
      candidatesTotal,
    };
  }
  const order =
    keptAt > 0 ? [first, ...eligible.slice(0, keptAt), ...eligible.slice(keptAt + 1, limit)] : eligible;
  const ranked: CandidateScore[] = [];
  for (let index = 0; index < order.length && index < limit; index += 1) {
    const entry = order[index] as EligibleEntry;
    if (index === 0) {
      ranked.push({ ...copyCandidate(entry.candidate), rank: 1, lostBecause: null });
      continue;
    }
    // A module the score would have put first lost only because the previous step's module stayed.
    const lostBecause =
      kept && compareEligible(entry, first) < 0
        ? `the previous step's module ${first.candidate.moduleName} was kept ` +
          `(score ${formatScore(first.candidate.score)} vs ${formatScore(entry.candidate.score)})`
        : lossExplanation(entry, first, prepared.weights);
    ranked.push({ ...copyCandidate(entry.candidate), rank: index + 1, lostBecause });
  }
  const winner = first.candidate;
  const factors = formatFactors(winner.factors);
  const reason = kept
    ? `kept the previous step's module: score ${formatScore(winner.score)}, ` +
      `rank ${keptAt + 1} by score of ${eligible.length} eligible (${factors})`
    : `highest score ${formatScore(winner.score)} of ${eligible.length} eligible (${factors})` +
      notKept(request, ineligible);
  const room = Math.max(0, limit - ranked.length);
  return {
    robotType: prepared.robotType,
    winner: winner.moduleName,
    reason,
    candidates: [...ranked, ...ineligible.slice(0, room).map(copyCandidate)],
    weights: usedWeights,
    candidatesTotal,
  };
}

// Prepared candidates are shared by every decision made from one snapshot: each decision gets its own.
function copyCandidate(candidate: CandidateScore): CandidateScore {
  return {
    ...candidate,
    ineligibleReasons: [...candidate.ineligibleReasons],
    factors: { ...candidate.factors },
  };
}

/** Why the previous step's module could not keep the robot, for the reason of a decision that moved it. */
function notKept(request: Pick<SelectionRequest, 'prefer'>, ineligible: readonly CandidateScore[]): string {
  if (request.prefer === undefined) return '';
  const previous = ineligible.find((candidate) => candidate.moduleName === request.prefer);
  const why = previous ? previous.ineligibleReasons.join('; ') : 'not registered';
  return `; the previous step's module ${request.prefer} is not eligible (${why})`;
}

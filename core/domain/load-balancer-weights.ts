// The load balancer's weights: what each factor of the seed's score counts for, checked once at
// configuration so a typo cannot make every score silently wrong.

export interface LoadBalancerWeights {
  performance: number;
  capacity: number;
  health: number;
  typeMatch: number;
}

export const DEFAULT_WEIGHTS: LoadBalancerWeights = {
  performance: 0.4,
  capacity: 0.3,
  health: 0.2,
  typeMatch: 0.1,
};

export const FACTOR_NAMES = ['performance', 'capacity', 'health', 'typeMatch'] as const;
export type FactorName = (typeof FACTOR_NAMES)[number];

const WEIGHT_SUM_TOLERANCE = 1e-6;

/** Throws Error with a clear message if any weight is negative/not finite or they do not sum to 1 (±1e-6). Returns the weights. */
export function validateWeights(weights: LoadBalancerWeights): LoadBalancerWeights {
  let sum = 0;
  for (const name of FACTOR_NAMES) {
    const value = weights[name];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new Error(`load balancer weight "${name}" must be a finite number >= 0, got ${String(value)}`);
    }
    sum += value;
  }
  // A tolerance, because weights typed by people (0.4 + 0.3 + 0.2 + 0.1) rarely add up to
  // exactly 1 in binary floating point.
  if (Math.abs(sum - 1) > WEIGHT_SUM_TOLERANCE) {
    throw new Error(
      // 12 significant digits: reports 0.9, not the 0.8999999999999999 the addition produced.
      `load balancer weights must sum to 1 (±1e-6), got ${Number(sum.toPrecision(12))} ` +
        `(performance ${weights.performance}, capacity ${weights.capacity}, ` +
        `health ${weights.health}, typeMatch ${weights.typeMatch})`,
    );
  }
  return weights;
}

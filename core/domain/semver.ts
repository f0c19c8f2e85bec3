// Semantic versions of module builds and of step-kind contracts: enough of semver 2.0.0 to tell a
// breaking change (the major) and to pick the newest declaration of a kind.

export const SEMVER_PATTERN =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;
export const SEMVER_MESSAGE = 'must be a semantic version like 1.4.0';

export function majorOf(version: string): string {
  return version.split('.')[0] ?? version;
}

function comparePrerelease(a: string | undefined, b: string | undefined): number {
  // A release outranks its pre-releases: 1.0.0 > 1.0.0-rc.1.
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? 1 : -1;
  const left = a.split('.');
  const right = b.split('.');
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const x = left[i];
    const y = right[i];
    if (x === undefined || y === undefined) return x === undefined ? -1 : 1;
    const numeric = /^\d+$/.test(x) && /^\d+$/.test(y);
    const order = numeric ? Number(x) - Number(y) : x < y ? -1 : x > y ? 1 : 0;
    if (order !== 0) return Math.sign(order);
  }
  return 0;
}

/** Negative, zero or positive as `a` is older than, as old as, or newer than `b`; build metadata is ignored. */
export function compareSemver(a: string, b: string): number {
  const x = SEMVER_PATTERN.exec(a);
  const y = SEMVER_PATTERN.exec(b);
  // Stored versions were checked on the way in; a hand-edited row sorts as text rather than throwing.
  if (!x || !y) return a < b ? -1 : a > b ? 1 : 0;
  for (let part = 1; part <= 3; part++) {
    const order = Number(x[part]) - Number(y[part]);
    if (order !== 0) return Math.sign(order);
  }
  return comparePrerelease(x[4], y[4]);
}

import { createHash, timingSafeEqual } from 'node:crypto';

// METRICS_TOKEN guards /metrics on the API and worker ports. Both sides hash before comparing so
// the comparison takes the same time whatever the presented length (timingSafeEqual needs equal
// lengths, and an early length check would tell a prober the token's length).

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  return /^Bearer[ ]+(\S+)\s*$/i.exec(authorization)?.[1];
}

/** True when the presented token is the configured one (constant time). */
export function isMetricsToken(presented: string | undefined, token: string): boolean {
  if (presented === undefined) return false;
  return timingSafeEqual(digest(presented), digest(token));
}

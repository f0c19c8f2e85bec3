import type { Scope } from '../../core/domain/api-key-scopes';

// Which scope a /v1 request needs, from its first path segment and method. Anything not listed
// here (keys, audit, secrets, and any route added later without an entry) needs `admin`: new
// routes are closed until someone decides who may call them.
// Notifications (webhook subscriptions) stay admin: a subscription decides where robot data goes.
// Triggers stay admin too: a trigger lets anyone holding its secret start robots (ADR 0048).
// Bulk actions (/robots/bulk/...) are robots:write like each single action they apply (ADR 0049).
const FAMILIES: Record<string, 'robots' | 'modules'> = {
  robots: 'robots',
  'robot-types': 'robots',
  approvals: 'robots',
  documents: 'robots',
  reports: 'robots',
  alerts: 'robots',
  mailboxes: 'robots',
  emails: 'robots',
  modules: 'modules',
  // The catalog is read beside the module registry: which modules serve which kinds.
  'step-kinds': 'modules',
};

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

// Families whose reads are another family's but whose changes stay admin. A robot schedule makes
// robots with no key's running-robots cap or rate limit: who may create one is an admin decision.
const READ_ONLY_FAMILIES: Record<string, 'robots' | 'modules'> = {
  schedules: 'robots',
};

/** `path` is relative to /v1, e.g. `/robots/123`. */
export function requiredScope(method: string, path: string): Scope {
  const first = path.split('/')[1] ?? '';
  const readOnly = READ_ONLY_FAMILIES[first];
  if (readOnly) return READS.has(method.toUpperCase()) ? `${readOnly}:read` : 'admin';
  const family = FAMILIES[first];
  if (!family) return 'admin';
  return READS.has(method.toUpperCase()) ? `${family}:read` : `${family}:write`;
}

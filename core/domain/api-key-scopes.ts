// What an API key may do (ADR 0011). Pure: the rate-limit policy in the configuration reads it too.

export const SCOPES = ['robots:read', 'robots:write', 'modules:read', 'modules:write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** `admin` implies every scope. */
export function hasScope(granted: readonly string[], needed: Scope): boolean {
  return granted.includes('admin') || granted.includes(needed);
}

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** Parses a comma list of scopes; throws naming the first unknown one. */
export function parseScopes(list: string): Scope[] {
  const scopes = list
    .split(',')
    .map((scope) => scope.trim())
    .filter(Boolean);
  const unknown = scopes.find((scope) => !isScope(scope));
  if (unknown !== undefined) throw new Error(`unknown scope "${unknown}"; known: ${SCOPES.join(', ')}`);
  if (scopes.length === 0) throw new Error('give at least one scope');
  return [...new Set(scopes)] as Scope[];
}

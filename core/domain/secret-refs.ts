// `{"$secret": name}` references in step params (ADR 0014). Plain functions without zod or I/O:
// registration (core/step-params.ts) and the module worker (workers/secret-params.ts) share them.

export interface SecretReference {
  $secret: string;
}

export interface PlacedReference {
  /** The secret's name. */
  name: string;
  /** Where the reference sits in the params: the param's name first, then keys and indexes. */
  path: (string | number)[];
}

export function isSecretReference(value: unknown): value is SecretReference {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length === 1 &&
    typeof (value as { $secret?: unknown }).$secret === 'string'
  );
}

/** Every reference inside `value`, with its path below `path`. */
export function secretReferencesIn(value: unknown, path: (string | number)[] = []): PlacedReference[] {
  if (isSecretReference(value)) return [{ name: value.$secret, path }];
  if (Array.isArray(value)) return value.flatMap((item, index) => secretReferencesIn(item, [...path, index]));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => secretReferencesIn(item, [...path, key]));
  }
  return [];
}

/**
 * References outside the params a kind declares secret. Registration refuses them and the module
 * never resolves them: a param the step echoes (an error message, an output, an email) must not be
 * able to carry a secret's value out.
 */
export function misplacedSecretReferences(
  params: Record<string, unknown>,
  secretParams: readonly string[],
): PlacedReference[] {
  return Object.entries(params)
    .filter(([param]) => !secretParams.includes(param))
    .flatMap(([param, value]) => secretReferencesIn(value, [param]));
}

/** `from`, `headers.Authorization`, `list[2]`: a path for messages. */
export function paramPath(path: readonly (string | number)[]): string {
  return path
    .map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? part : `.${part}`))
    .join('');
}

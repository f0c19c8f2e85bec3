import { AsyncLocalStorage } from 'node:async_hooks';

// Secret values a module step holds are replaced by `[secret:<name>]` in what leaves the module:
// its output, its errors, its heartbeats (workers/secret-params.ts) and the log lines written while
// it runs (core/logger.ts). Only exact occurrences are found: a step that encodes a value (base64,
// a hash, reversed) before echoing it is not caught, which is why kinds declare secret only params
// they send elsewhere and never echo (ADR 0014).

/** Secret values by name. */
export type RevealedSecrets = ReadonlyMap<string, string>;

export const secretPlaceholder = (name: string): string => `[secret:${name}]`;

/** Longest first: a secret that contains another is replaced whole. */
function bySize(secrets: RevealedSecrets): [string, string][] {
  return [...secrets].filter(([, value]) => value.length > 0).sort(([, a], [, b]) => b.length - a.length);
}

export function redactText(text: string, secrets: RevealedSecrets): string {
  let result = text;
  for (const [name, value] of bySize(secrets)) {
    if (result.includes(value)) result = result.split(value).join(secretPlaceholder(name));
  }
  return result;
}

/** A JSON-shaped value with every string and key redacted; anything else is returned as it is. */
export function redactDeep(value: unknown, secrets: RevealedSecrets): unknown {
  if (typeof value === 'string') return redactText(value, secrets);
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, secrets));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [redactText(key, secrets), redactDeep(item, secrets)]),
    );
  }
  return value;
}

/**
 * `redactDeep` of the value as Temporal's JSON converter will send it (a Date as its string, a Map
 * as `{}`); a top-level Uint8Array is sent as raw bytes and passes as it is.
 */
export function redactPayload(value: unknown, secrets: RevealedSecrets): unknown {
  if (value === undefined || value instanceof Uint8Array) return value;
  let json: unknown;
  try {
    json = JSON.parse(JSON.stringify(value));
  } catch {
    return redactDeep(value, secrets); // not JSON (a BigInt, a cycle): the converter will refuse it anyway
  }
  return redactDeep(json, secrets);
}

/** Whether a text carries any of the values, as they are or escaped inside a JSON string. */
export function containsSecret(text: string, secrets: RevealedSecrets): boolean {
  for (const value of secrets.values()) {
    if (value.length > 0 && (text.includes(value) || text.includes(jsonEscaped(value)))) return true;
  }
  return false;
}

const jsonEscaped = (value: string): string => JSON.stringify(value).slice(1, -1);

const holding = new AsyncLocalStorage<RevealedSecrets>();

/** Runs `fn` (and all it awaits or schedules) as a holder of these values: its log lines are redacted. */
export function withRevealedSecrets<T>(secrets: RevealedSecrets, fn: () => T): T {
  const outer = holding.getStore();
  return holding.run(outer ? new Map([...outer, ...secrets]) : secrets, fn);
}

/**
 * pino's `streamWrite` hook: a JSON log line written while a step holds secrets, with their values
 * redacted. Lines written anywhere else pass untouched after one lookup.
 */
export function redactLogLine(line: string): string {
  const secrets = holding.getStore();
  if (!secrets || secrets.size === 0 || !containsSecret(line, secrets)) return line;
  try {
    return `${JSON.stringify(redactDeep(JSON.parse(line), secrets))}\n`;
  } catch {
    // Not one JSON object (a custom serializer): replace the values and their escaped forms as text.
    const escaped = new Map([...secrets].map(([name, value]) => [name, jsonEscaped(value)] as const));
    return redactText(redactText(line, secrets), escaped);
  }
}

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';

// docker-compose.yml, the Dockerfile and the deploy/ files read the way Compose and Docker read
// them, for the static tests of the production stack (no Docker engine runs where the tests run).

export const ROOT = path.resolve(__dirname, '..', '..');
export const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

export type Json = Record<string, unknown>;

export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function record(value: unknown, what: string): Json {
  if (!isRecord(value)) throw new Error(`${what} should be a mapping, got ${JSON.stringify(value)}`);
  return value;
}

export function strings(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new Error(`${what} should be a list of strings, got ${JSON.stringify(value)}`);
  }
  return value;
}

export const composeText = read('docker-compose.yml');
export const composeDoc = parseDocument(composeText, { merge: true });
/** The compose file with YAML merge keys (<<) resolved, as Compose sees it. */
export const compose = record(composeDoc.toJS(), 'docker-compose.yml');
export const services = record(compose.services, 'services');

export function service(name: string): Json {
  return record(services[name], `service ${name}`);
}

/** depends_on in either compose form, as target → condition. */
export function dependsOn(name: string): Map<string, string> {
  const raw = service(name).depends_on;
  if (raw === undefined) return new Map();
  if (Array.isArray(raw)) {
    return new Map(strings(raw, `${name}.depends_on`).map((t) => [t, 'service_started']));
  }
  return new Map(
    Object.entries(record(raw, `${name}.depends_on`)).map(([target, spec]) => [
      target,
      String(record(spec, `${name}.depends_on.${target}`).condition ?? 'service_started'),
    ]),
  );
}

/** environment in either compose form, as the strings a container would see. */
export function environment(name: string): Record<string, string> {
  const raw = service(name).environment;
  if (raw === undefined) return {};
  const entries: [string, unknown][] = Array.isArray(raw)
    ? strings(raw, `${name}.environment`).map((item) => {
        const at = item.indexOf('=');
        return at < 0 ? [item, undefined] : [item.slice(0, at), item.slice(at + 1)];
      })
    : Object.entries(record(raw, `${name}.environment`));
  return Object.fromEntries(
    entries.map(([key, value]) => {
      // Compose rejects booleans and objects here; null/undefined means "take it from the host".
      if (typeof value !== 'string' && typeof value !== 'number') {
        throw new Error(
          `${name}.environment.${key} must be a string or number, got ${JSON.stringify(value)}`,
        );
      }
      return [key, String(value)];
    }),
  );
}

/** A service's secrets (short or long syntax) as source name → file name under /run/secrets. */
export function secretsOf(name: string): Map<string, string> {
  const raw = service(name).secrets;
  if (raw === undefined) return new Map();
  if (!Array.isArray(raw)) throw new Error(`${name}.secrets should be a list`);
  return new Map(
    raw.map((item: unknown): [string, string] => {
      if (typeof item === 'string') return [item, item];
      const spec = record(item, `${name}.secrets[]`);
      const source = String(spec.source);
      return [source, String(spec.target ?? source)];
    }),
  );
}

/** A healthcheck's test as one command line. */
export function healthTest(name: string): string {
  const check = record(service(name).healthcheck, `${name}.healthcheck`).test;
  return Array.isArray(check) ? check.join(' ') : String(check);
}

/** Compose durations (1m30s, 45s, 500ms) in seconds. */
export function durationSeconds(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|us|h|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw new Error(`not a compose duration: ${text}`);
  }
  const unit: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001, us: 0.000001 };
  return parts.reduce((sum, [, value, u]) => sum + Number(value) * (unit[u ?? 's'] ?? 1), 0);
}

/** Dockerfile instructions with line continuations joined and comments dropped. */
export function dockerfileInstructions(text: string): { op: string; args: string }[] {
  return text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [op = '', ...rest] = line.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

export const instructions = dockerfileInstructions(read('Dockerfile'));
export const runtimeStage = instructions.slice(instructions.map((i) => i.op).lastIndexOf('FROM'));

/** ENV of the final image stage: the app's environment before compose adds its own. */
export const imageEnv: Record<string, string> = Object.fromEntries(
  runtimeStage
    .filter((i) => i.op === 'ENV')
    .flatMap((i) => i.args.split(/\s+/))
    .map((pair) => {
      const at = pair.indexOf('=');
      if (at < 1) throw new Error(`Dockerfile: use ENV KEY=value, got "${pair}"`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
);

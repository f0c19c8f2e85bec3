import type { StepDeclaration } from './define-step';

// The module's side of the registry API (docs/module-sdk.md): register, heartbeat each replica,
// deregister a replica on the way out. Plain fetch with the API key; nothing else of the API.

export interface RegistrationBody {
  name: string;
  version: string;
  capacity: number;
  supportedRobotTypes: string[];
  steps: StepDeclaration[];
}

/** The API's answer to a registration (a ModuleView plus the declarations as stored). */
export type RegisteredModule = Record<string, unknown> & { name: string; version: string };

/** Liveness settings the API answers a heartbeat with (older APIs: none). */
export interface HeartbeatAnswer {
  heartbeatSeconds?: number;
  ttlSeconds?: number;
}

/** A refusal or failure of the API, with its problem detail and field errors in the message. */
export class RegistryError extends Error {
  override name = 'RegistryError';

  constructor(
    readonly status: number,
    readonly problem: Record<string, unknown>,
    what: string,
  ) {
    super(`${what}: ${status > 0 ? `${status} ` : ''}${describeProblem(status, problem)}`);
  }
}

function describeProblem(status: number, problem: Record<string, unknown>): string {
  const title = String(problem.title ?? (status === 0 ? 'unreachable' : 'error'));
  const detail = problem.detail ? `: ${String(problem.detail)}` : '';
  const errors = Array.isArray(problem.errors)
    ? problem.errors
        .map(
          (error: { field?: unknown; message?: unknown }) =>
            `\n  ${String(error.field)}: ${String(error.message)}`,
        )
        .join('')
    : '';
  const hint =
    status === 401
      ? '\n  (RPA_API_KEY, or the apiKey option, must be a valid API key)'
      : status === 403
        ? '\n  (the API key needs the scope modules:write)'
        : '';
  return `${title}${detail}${errors}${hint}`;
}

const REQUEST_TIMEOUT_MS = 10_000;

export class RegistrationClient {
  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
  ) {}

  private async request<T>(method: string, path: string, what: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: {
          accept: 'application/json',
          authorization: `Bearer ${this.apiKey}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      throw new RegistryError(
        0,
        { title: 'API unreachable', detail: `${this.baseUrl}: ${(err as Error).message}` },
        what,
      );
    }
    const payload = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok) throw new RegistryError(response.status, payload, what);
    return payload as T;
  }

  /** POST /v1/modules: creates the module or updates its registration (idempotent). */
  register(body: RegistrationBody): Promise<RegisteredModule> {
    return this.request('POST', '/v1/modules', `registering module ${body.name} at ${this.baseUrl}`, body);
  }

  /** POST /v1/modules/:name/heartbeat: this replica is alive, with this capacity. */
  heartbeat(name: string, replica: { replicaId: string; capacity: number }): Promise<HeartbeatAnswer> {
    return this.request(
      'POST',
      `/v1/modules/${encodeURIComponent(name)}/heartbeat`,
      `heartbeat of module ${name}`,
      replica,
    );
  }

  /** DELETE /v1/modules/:name/replicas/:replicaId: routing stops sending new robots to this replica at once. */
  async deregister(name: string, replicaId: string): Promise<void> {
    await this.request(
      'DELETE',
      `/v1/modules/${encodeURIComponent(name)}/replicas/${encodeURIComponent(replicaId)}`,
      `deregistering replica ${replicaId} of module ${name}`,
    );
  }
}

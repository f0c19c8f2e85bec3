import type { BulkDryRun, BulkOperationView } from '../api/bulk-robots.service';
import type { ModuleView } from '../api/modules.service';
import type { ScheduleView } from '../api/schedules.service';
import type { StepKindView } from '../api/step-kinds.service';
import type { RobotView } from '../core/domain/robot';
import type { RobotTypeView } from '../db/views/robot-type.view';
import type { TriggerView } from '../db/views/trigger.view';

export type RobotResponse = RobotView & { links: { self: string; temporalUi: string } };
export type ModuleResponse = ModuleView;
export type RobotTypeResponse = RobotTypeView;
export type StepKindResponse = StepKindView;
export type TriggerResponse = TriggerView;
export type BulkOperationResponse = BulkOperationView;
export type BulkAnswer = BulkOperationView | BulkDryRun;
export type ScheduleResponse = ScheduleView;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Record<string, unknown>,
  ) {
    super(`${status} ${String(problem.title ?? 'error')}: ${String(problem.detail ?? '')}`);
  }
}

/** The CLI talks to the API like any other client. */
export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly apiKey?: string,
  ) {}

  private async request<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    const response = await fetch(new URL(path, this.baseUrl), {
      method,
      headers: {
        accept: 'application/json',
        ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}),
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
    const payload = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok) throw new ApiError(response.status, payload);
    return payload as T;
  }

  createRobot(
    body: {
      type: string;
      input: Record<string, unknown>;
      priority?: string;
      sla?: string;
      deadline?: string;
    },
    idempotencyKey?: string,
  ) {
    return this.request<RobotResponse>(
      'POST',
      '/v1/robots',
      body,
      idempotencyKey ? { 'idempotency-key': idempotencyKey } : {},
    );
  }

  getRobot(id: string) {
    return this.request<RobotResponse>('GET', `/v1/robots/${encodeURIComponent(id)}`);
  }

  listRobots(query: Record<string, string | undefined>) {
    const params = new URLSearchParams(
      Object.entries(query).filter((entry): entry is [string, string] => !!entry[1]),
    );
    return this.request<{ items: RobotResponse[]; nextCursor: string | null }>('GET', `/v1/robots?${params}`);
  }

  /** cancel, pause, resume, retry, approve, reject: accepted (202), the robot acts on it. */
  robotAction(id: string, action: string, body?: Record<string, unknown>) {
    return this.request<{ robotId: string; action: string; status: string; effect: string }>(
      'POST',
      `/v1/robots/${encodeURIComponent(id)}/${action}`,
      body,
    );
  }

  /** POST /v1/robots/bulk/{action}: a dry run (200), or the operation started (202) or repeated (200). */
  bulkAction(action: string, body: Record<string, unknown>, idempotencyKey?: string) {
    return this.request<BulkAnswer>(
      'POST',
      `/v1/robots/bulk/${encodeURIComponent(action)}`,
      body,
      idempotencyKey ? { 'idempotency-key': idempotencyKey } : {},
    );
  }

  getBulkOperation(operationId: string) {
    return this.request<BulkOperationResponse>('GET', `/v1/robots/bulk/${encodeURIComponent(operationId)}`);
  }

  cancelBulkOperation(operationId: string) {
    return this.request<BulkOperationResponse>(
      'POST',
      `/v1/robots/bulk/${encodeURIComponent(operationId)}/cancel`,
    );
  }

  listModules(robotType?: string) {
    const query = robotType ? `?robotType=${encodeURIComponent(robotType)}` : '';
    return this.request<{ items: ModuleResponse[] }>('GET', `/v1/modules${query}`);
  }

  moduleAction(name: string, action: 'drain' | 'resume') {
    return this.request<ModuleResponse>('POST', `/v1/modules/${encodeURIComponent(name)}/${action}`);
  }

  deactivateModule(name: string) {
    return this.request<ModuleResponse>('DELETE', `/v1/modules/${encodeURIComponent(name)}`);
  }

  listStepKinds() {
    return this.request<{ items: StepKindResponse[] }>('GET', '/v1/step-kinds');
  }

  getStepKind(kind: string) {
    return this.request<StepKindResponse>('GET', `/v1/step-kinds/${encodeURIComponent(kind)}`);
  }

  listRobotTypes() {
    return this.request<{ items: RobotTypeResponse[] }>('GET', '/v1/robot-types');
  }

  getRobotType(name: string) {
    return this.request<RobotTypeResponse>('GET', `/v1/robot-types/${encodeURIComponent(name)}`);
  }

  robotTypeVersions(name: string) {
    return this.request<{ items: RobotTypeResponse[] }>(
      'GET',
      `/v1/robot-types/${encodeURIComponent(name)}/versions`,
    );
  }

  registerRobotType(definition: Record<string, unknown>) {
    return this.request<RobotTypeResponse>('POST', '/v1/robot-types', definition);
  }

  listSchedules() {
    return this.request<{ items: ScheduleResponse[] }>('GET', '/v1/schedules');
  }

  /** Any other /v1/schedules call: `path` below /v1/schedules (e.g. `/nightly/pause`). */
  schedule<T = ScheduleResponse>(method: string, path: string, body?: unknown) {
    return this.request<T>(method, `/v1/schedules${path}`, body);
  }

  health() {
    return this.request<{ status: string }>('GET', '/health');
  }

  listTriggers() {
    return this.request<{ items: TriggerResponse[] }>('GET', '/v1/triggers');
  }

  getTrigger(name: string) {
    return this.request<TriggerResponse>('GET', `/v1/triggers/${encodeURIComponent(name)}`);
  }

  /** The answer holds the signing secret: the only time it is shown. */
  createTrigger(body: Record<string, unknown>) {
    return this.request<TriggerResponse & { secret: string }>('POST', '/v1/triggers', body);
  }

  async deleteTrigger(name: string): Promise<void> {
    await this.request<unknown>('DELETE', `/v1/triggers/${encodeURIComponent(name)}`);
  }
}

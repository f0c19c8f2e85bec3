import {
  newWebhookSecret,
  secretProblem,
  verifyWebhook,
  type WebhookRefusal,
} from '../core/adapters/crypto/standard-webhooks';
import { HOOK_ROBOT_NAMESPACE, uuidV5 } from '../core/adapters/crypto/uuid-v5';
import { auditActor } from '../core/domain/audit-actor';
import {
  ConflictError,
  NotFoundError,
  RobotInputError,
  UnavailableError,
  ValidationError,
} from '../core/domain/errors';
import { inspectJson } from '../core/domain/json-inspect';
import type { RobotTypeDefinition } from '../core/domain/robot-types';
import {
  type CreateTriggerBody,
  mapInput,
  TRIGGER_NAME,
  type UpdateTriggerBody,
} from '../core/domain/trigger';
import type { TriggerRow } from '../db/schema';
import { TriggerNameTakenError, type TriggersRepository } from '../db/triggers.repository';
import { type TriggerView, toTriggerView } from '../db/views/trigger.view';
import type { RobotsService } from './robots.service';
import { createRobotBody } from './schemas';

/** Why a hook request was refused: its HTTP status, a stable problem type and the audit reason. */
export class HookRefusedError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export interface TriggersServiceDeps {
  repository: TriggersRepository;
  robotTypes: { current(name: string): Promise<RobotTypeDefinition | undefined> };
  robots: Pick<RobotsService, 'create' | 'remember'>;
  /** HOOK_TOLERANCE_SECONDS. */
  toleranceSeconds: number;
  /** JSON_MAX_DEPTH: the same nesting limit as any JSON body. */
  maxDepth: number;
  nowSeconds?: () => number;
}

/** Triggers (admin CRUD) and what their hooks do: verify, map, create one robot per webhook-id. */
export class TriggersService {
  private readonly nowSeconds: () => number;

  constructor(private readonly deps: TriggersServiceDeps) {
    this.nowSeconds = deps.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  }

  private requireKeys(): void {
    if (!this.deps.repository.configured)
      throw new UnavailableError('triggers need SECRETS_KEYS to seal their signing secrets', 60);
  }

  private async checkRobotType(name: string): Promise<void> {
    if (!(await this.deps.robotTypes.current(name))) {
      throw new ValidationError(`unknown robot type "${name}"`, {
        errors: [{ field: 'body.robotType', message: `unknown robot type "${name}"` }],
      });
    }
  }

  private checkSecret(secret: string | undefined): string {
    if (secret === undefined) return newWebhookSecret();
    const problem = secretProblem(secret);
    if (problem) {
      throw new ValidationError(`body.secret: ${problem}`, {
        errors: [{ field: 'body.secret', message: problem }],
      });
    }
    return secret;
  }

  /** The new trigger and its secret, which is shown this once. */
  async create(body: CreateTriggerBody): Promise<{ trigger: TriggerView; secret: string }> {
    this.requireKeys();
    const secret = this.checkSecret(body.secret);
    await this.checkRobotType(body.robotType);
    try {
      const row = await this.deps.repository.create({ ...body, secret });
      return { trigger: toTriggerView(row), secret };
    } catch (err) {
      if (err instanceof TriggerNameTakenError) throw new ConflictError(err.message);
      throw err;
    }
  }

  async list(): Promise<TriggerView[]> {
    return (await this.deps.repository.list()).map(toTriggerView);
  }

  private async row(name: string): Promise<TriggerRow> {
    const row = await this.deps.repository.byName(name);
    if (!row) throw new NotFoundError(`trigger ${name} not found`);
    return row;
  }

  async get(name: string): Promise<TriggerView> {
    return toTriggerView(await this.row(name));
  }

  /** A new secret (given or rotated) is in the answer, once. */
  async update(name: string, body: UpdateTriggerBody): Promise<{ trigger: TriggerView; secret?: string }> {
    this.requireKeys();
    const row = await this.row(name);
    const { rotateSecret, secret: given, ...fields } = body;
    const secret = rotateSecret
      ? newWebhookSecret()
      : given === undefined
        ? undefined
        : this.checkSecret(given);
    if (fields.robotType !== undefined) await this.checkRobotType(fields.robotType);
    const updated = await this.deps.repository.update(row, {
      ...(fields.robotType !== undefined ? { robotType: fields.robotType } : {}),
      ...(fields.priority !== undefined ? { priority: fields.priority } : {}),
      ...(fields.inputMapping !== undefined ? { inputMapping: fields.inputMapping } : {}),
      ...(secret !== undefined ? { secret } : {}),
    });
    if (!updated) throw new NotFoundError(`trigger ${name} not found`);
    return { trigger: toTriggerView(updated), ...(secret !== undefined ? { secret } : {}) };
  }

  async delete(name: string): Promise<void> {
    if (!(await this.deps.repository.delete(name))) throw new NotFoundError(`trigger ${name} not found`);
  }

  /** The trigger a hook names, or a 404 refusal. */
  async hookTarget(name: string): Promise<TriggerRow> {
    const row = TRIGGER_NAME.test(name) ? await this.deps.repository.byName(name) : null;
    if (!row) throw new HookRefusedError(404, 'unknown-trigger', `no trigger named ${name}`);
    return row;
  }

  /**
   * One signed delivery: verified, mapped, and made into the robot whose id derives from the trigger
   * and the webhook-id, through the API's own create path. A repeat of an accepted webhook-id finds
   * that robot (its idempotency key) and never starts a second workflow.
   */
  async receive(
    trigger: TriggerRow,
    headers: Record<string, string | string[] | undefined>,
    raw: Buffer,
  ): Promise<{ robotId: string; created: boolean }> {
    if (!this.deps.repository.configured) throw new UnavailableError('SECRETS_KEYS is not configured', 60);
    const check = verifyWebhook(
      this.deps.repository.secretOf(trigger),
      headers,
      raw,
      this.nowSeconds(),
      this.deps.toleranceSeconds,
    );
    if (!check.ok) throw new HookRefusedError(401, check.reason, refusalText[check.reason]);
    const text = raw.toString('utf8');
    const issue = inspectJson(text, this.deps.maxDepth);
    let body: unknown;
    try {
      if (issue) throw new Error(`${issue.path || 'body'}: ${issue.message}`);
      body = JSON.parse(text);
    } catch (err) {
      throw new HookRefusedError(
        400,
        'malformed-body',
        `the body is not acceptable JSON: ${(err as Error).message}`,
      );
    }
    const mapped = mapInput(trigger.inputMapping as Parameters<typeof mapInput>[0], body, check);
    if (!mapped.ok) throw new HookRefusedError(422, 'input-refused', mapped.message);
    const parsed = createRobotBody.safeParse({
      type: trigger.robotType,
      input: mapped.input,
      priority: trigger.priority,
    });
    if (!parsed.success)
      throw new HookRefusedError(422, 'input-refused', 'the mapped input is not a robot input');
    const robotId = uuidV5(`${trigger.triggerId}:${check.id}`, HOOK_ROBOT_NAMESPACE);
    try {
      const { robot, created } = await this.deps.robots.create(
        parsed.data,
        `hook:${robotId}`,
        null,
        robotId,
        auditActor.trigger(trigger.name),
      );
      if (created) this.deps.robots.remember(robot);
      return { robotId: robot.robotId, created };
    } catch (err) {
      // The type's inputSchema refused the input, or the type is gone: the sender's request, as is, never will do.
      if (err instanceof RobotInputError || err instanceof ValidationError)
        throw new HookRefusedError(422, 'input-refused', err.message);
      if (err instanceof ConflictError)
        throw new HookRefusedError(
          409,
          'webhook-id-reused',
          `webhook-id ${check.id} was accepted with another body`,
        );
      throw err;
    }
  }
}

const refusalText: Record<WebhookRefusal, string> = {
  'missing-headers': 'webhook-id, webhook-timestamp (Unix seconds) and webhook-signature are required',
  'stale-timestamp': 'webhook-timestamp is too old: sign each request when you send it',
  'future-timestamp': "webhook-timestamp is in the future beyond the tolerance: check the sender's clock",
  'bad-signature': "no webhook-signature matches this trigger's secret",
};

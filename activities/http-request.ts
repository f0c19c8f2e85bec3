import { STATUS_CODES } from 'node:http';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { idempotencyKey } from '../core/adapters/crypto/step-idempotency-key';
import {
  GuardedHttpError,
  type GuardedResponse,
  guardedRequest,
} from '../core/adapters/http/guarded-http.client';
import type { SsrfGuard } from '../core/adapters/http/ssrf.guard';
import { FAILURE_TYPES } from '../core/domain/failure-types';
import {
  bodyExcerpt,
  type PlannedRequest,
  pickFields,
  planHttpRequest,
  retryAfterMs,
  statusRanges,
  statusVerdict,
} from '../core/domain/http-request.plan';
import type { StepInput, StepOutput } from '../core/domain/step-activity.contract';
import { type HttpRequestParams, httpRequestParamsSchema } from '../core/domain/step-params';
import { TemplateError } from '../core/domain/template';
import { httpStepRequests } from '../core/observability/metrics';

/** A Retry-After further out than this is shortened to it: a robot does not wait hours on one header. */
export const RETRY_AFTER_MAX_MS = 10 * 60_000;

export interface HttpRequestDeps {
  /** Vets every target and redirect (HTTP_STEP_ALLOWED_HOSTS). */
  guard: SsrfGuard;
}

/** The request for messages: method and URL without its query (which may be long). */
const describe = (request: PlannedRequest): string =>
  `${request.method} ${request.url.origin}${request.url.pathname}`;

function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined; // called outside an activity (a unit test of the step function)
  }
}

function transportFailure(err: GuardedHttpError, request: PlannedRequest): ApplicationFailure {
  const text = `http-request: ${describe(request)}: ${err.message}`;
  switch (err.failure) {
    case 'refused-target':
      httpStepRequests.inc({ outcome: 'refused_target' });
      return ApplicationFailure.nonRetryable(text, FAILURE_TYPES.httpTargetRefused);
    case 'redirects':
      httpStepRequests.inc({ outcome: 'invalid' });
      return ApplicationFailure.nonRetryable(text, FAILURE_TYPES.httpRedirectRefused);
    case 'too-large':
      // The same request would bring the same answer: no point in another attempt.
      httpStepRequests.inc({ outcome: 'too_large' });
      return ApplicationFailure.nonRetryable(text, FAILURE_TYPES.httpResponseTooLarge);
    case 'timeout':
      httpStepRequests.inc({ outcome: 'timeout' });
      return ApplicationFailure.retryable(text, FAILURE_TYPES.httpTimeout);
    case 'network':
    case 'cancelled':
      httpStepRequests.inc({ outcome: 'network' });
      return ApplicationFailure.retryable(text, FAILURE_TYPES.httpNetworkError);
  }
}

function statusFailure(
  response: GuardedResponse,
  request: PlannedRequest,
  retry: boolean,
): ApplicationFailure {
  const { status } = response;
  const excerpt = bodyExcerpt(response.body);
  const message =
    `http-request: ${describe(request)} answered ${status} ${STATUS_CODES[status] ?? ''}`.trimEnd() +
    (excerpt ? `: ${excerpt}` : '');
  const details = [{ status, url: `${response.url.origin}${response.url.pathname}` }];
  if (!retry) {
    httpStepRequests.inc({ outcome: 'refused_status' });
    return ApplicationFailure.create({
      message,
      type: FAILURE_TYPES.httpStatusRefused,
      nonRetryable: true,
      details,
    });
  }
  httpStepRequests.inc({ outcome: 'retried_status' });
  // Retry-After is defined for 429 and 503 (RFC 6585, RFC 9110); it replaces the policy's backoff once.
  const header = response.headers['retry-after'];
  const wait = status === 429 || status === 503 ? retryAfterMs(header, Date.now()) : undefined;
  return ApplicationFailure.create({
    message,
    type: FAILURE_TYPES.httpStatusRetryable,
    nonRetryable: false,
    details,
    ...(wait !== undefined ? { nextRetryDelay: Math.min(wait, RETRY_AFTER_MAX_MS) } : {}),
  });
}

/** JSON when the body parses as JSON (whatever its content type says), else its text; null when empty. */
function readBody(body: Buffer): { json: true; value: unknown } | { json: false; value: string | null } {
  if (body.length === 0) return { json: false, value: null };
  const text = body.toString('utf8');
  try {
    return { json: true, value: JSON.parse(text) };
  } catch {
    return { json: false, value: text };
  }
}

function output(params: HttpRequestParams, response: GuardedResponse, request: PlannedRequest): StepOutput {
  const body = readBody(response.body);
  if (!params.pick) return { status: response.status, body: body.value };
  if (!body.json && body.value !== null) {
    throw ApplicationFailure.nonRetryable(
      `http-request: ${describe(request)} answered ${response.status} with no JSON to pick from: ${bodyExcerpt(response.body)}`,
      FAILURE_TYPES.httpResponseNotJson,
    );
  }
  // A missing field is left out: `requiredOutputs` on the step makes it an error where it must be there.
  return { status: response.status, ...pickFields(body.value, params.pick).fields };
}

export function createHttpRequestActivities({ guard }: HttpRequestDeps) {
  return {
    /**
     * One HTTP request per attempt, with the same Idempotency-Key on every attempt. Accepted
     * statuses (2xx unless `acceptStatus`) succeed; 408, 429, 5xx, network errors and timeouts are
     * retried by the step's retry policy; any other status or a refused target fails the robot.
     */
    async 'http-request'({ robotId, step, input, previous }: StepInput): Promise<StepOutput> {
      const parsed = httpRequestParamsSchema.safeParse(step.params);
      if (!parsed.success) {
        httpStepRequests.inc({ outcome: 'invalid' });
        const first = parsed.error.issues[0];
        throw ApplicationFailure.nonRetryable(
          `http-request: params.${first?.path.join('.') ?? ''} ${first?.message ?? 'is invalid'}`,
          FAILURE_TYPES.invalidStepDefinition,
        );
      }
      const params = parsed.data;
      let request: PlannedRequest;
      try {
        request = planHttpRequest(params, { robotId, input, previous }, idempotencyKey(robotId, step.name));
      } catch (err) {
        if (!(err instanceof TemplateError)) throw err;
        httpStepRequests.inc({ outcome: 'invalid' });
        throw ApplicationFailure.nonRetryable(`http-request: ${err.message}`, FAILURE_TYPES.templateError);
      }

      const context = currentContext();
      // Cancellation reaches an activity through heartbeats; they also prove a slow answer is awaited.
      const beat = context ? setInterval(() => context.heartbeat(), 1000) : undefined;
      let response: GuardedResponse;
      try {
        response = await guardedRequest(guard, {
          ...request,
          timeoutMs: params.timeoutSeconds * 1000,
          maxResponseBytes: params.maxResponseBytes,
          ...(context ? { signal: context.cancellationSignal } : {}),
        });
      } catch (err) {
        if (!(err instanceof GuardedHttpError)) throw err;
        if (err.failure === 'cancelled' && context) await context.cancelled;
        throw transportFailure(err, request);
      } finally {
        clearInterval(beat);
      }

      const verdict = statusVerdict(response.status, statusRanges(params.acceptStatus));
      if (verdict !== 'accepted') throw statusFailure(response, request, verdict === 'retry');
      httpStepRequests.inc({ outcome: 'accepted' });
      return output(params, response, request);
    },
  };
}

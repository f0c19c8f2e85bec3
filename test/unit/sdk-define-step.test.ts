import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { parseConfig } from '../../core/config';
import { objectSchemaProblem } from '../../core/domain/json-schema';
import type { StepInput } from '../../core/domain/step-activity.contract';
import { createLogger } from '../../core/observability/logger';
import { moduleSteps } from '../../core/observability/metrics';
import { DefinitionError, defineStep, PermanentError, runStep } from '../../sdk';
import { moduleSecrets, NO_SECRET_STORE } from '../../sdk/secrets';
import { STEP_TIMEOUT_FAILURE, stepActivity } from '../../sdk/step-activity';
import { withSecretParams } from '../../workers/secret-params';

// defineStep's checks and schema conversion, and one attempt as the module runs it: validation
// errors and PermanentError become non-retryable failures naming the fields, anything else stays
// retryable. (The Temporal side, heartbeats and cancellation, is in test/integration/sdk-module.)

const logger = createLogger(parseConfig({ LOG_LEVEL: 'silent' }), 'test');

const lookup = defineStep({
  kind: 'crm.lookup',
  version: '1.2.0',
  description: 'Finds a customer',
  params: z.object({
    url: z.string().url(),
    token: z.string(),
    fields: z.array(z.string()).default(['name']),
  }),
  input: z.object({ customer: z.object({ id: z.string() }) }),
  output: z.object({ name: z.string() }),
  secrets: ['token'],
  timeout: '30s',
  async run({ params, input }) {
    if (input.customer.id === 'missing')
      throw new PermanentError('no such customer', { details: { id: 'missing' } });
    if (input.customer.id === 'flaky') throw new Error('connection reset');
    if (input.customer.id === 'bad-output') return { name: 42 } as never;
    if (input.customer.id === 'echo') return { name: params.token };
    return { name: `customer ${input.customer.id} (${params.fields.join(',')})` };
  },
});

const attempt = (params: Record<string, unknown>, input: Record<string, unknown>): StepInput => ({
  robotId: 'robot-1',
  step: { name: 'find', kind: 'crm.lookup', params, timeoutSeconds: 60 },
  input,
  previous: {},
});
const IDENTITY_ESCAPE = '^\\_+$';
const PARAMS = { url: 'https://crm.example/api', token: 't0ken' };

describe('defineStep', () => {
  it('declares the kind with JSON Schemas of its params (as written), input and output', () => {
    const { declaration } = lookup;
    expect(declaration).toMatchObject({
      kind: 'crm.lookup',
      version: '1.2.0',
      description: 'Finds a customer',
      secretParams: ['token'],
    });
    expect(declaration.params).toMatchObject({
      type: 'object',
      properties: {
        url: { type: 'string', format: 'uri' },
        token: { type: 'string' },
        fields: { type: 'array', items: { type: 'string' }, default: ['name'] },
      },
      // A defaulted param is optional for whoever writes the robot type.
      required: ['url', 'token'],
    });
    expect(declaration.input).toMatchObject({
      type: 'object',
      properties: { customer: { type: 'object', required: ['id'] } },
      required: ['customer'],
    });
    expect(declaration.output).toMatchObject({ type: 'object', required: ['name'] });
    // What the API compiles them with (Ajv, strict: an unknown keyword would be refused).
    for (const schema of [declaration.params, declaration.input, declaration.output]) {
      expect(objectSchemaProblem(schema, 'x')).toBeNull();
    }
    expect(lookup.timeoutMs).toBe(30_000);
  });

  it('defaults input and output to any JSON object', () => {
    const step = defineStep({ kind: 'a.b', version: '1.0.0', params: z.object({}), run: async () => ({}) });
    expect(step.declaration.input).toMatchObject({ type: 'object' });
    expect(step.declaration.output).toMatchObject({ type: 'object' });
    expect(step.declaration.secretParams).toEqual([]);
    expect(step.timeoutMs).toBeUndefined();
  });

  it('takes a timeout in seconds', () => {
    const step = defineStep({
      kind: 'a.b',
      version: '1.0.0',
      params: z.object({}),
      timeout: 2,
      run: async () => ({}),
    });
    expect(step.timeoutMs).toBe(2000);
  });

  it('keeps a built-in kind’s secret params unless told otherwise', () => {
    const step = defineStep({
      kind: 'http-request',
      version: '1.0.0',
      params: z.object({ url: z.string(), headers: z.unknown(), body: z.unknown(), form: z.unknown() }),
      run: async () => ({}),
    });
    expect(step.secrets).toEqual(['headers', 'body', 'form']);
  });

  const refusals: [string, () => unknown, RegExp][] = [
    [
      'a kind that is neither custom nor built-in',
      () => defineStep({ kind: 'Lookup', version: '1.0.0', params: z.object({}), run: async () => ({}) }),
      /step kind "Lookup": use dotted lowercase words/,
    ],
    [
      'a kind the workflow runs itself',
      () => defineStep({ kind: 'approval', version: '1.0.0', params: z.object({}), run: async () => ({}) }),
      /runs in the workflow itself/,
    ],
    [
      'a version that is not semver',
      () => defineStep({ kind: 'a.b', version: 'v1', params: z.object({}), run: async () => ({}) }),
      /version must be a semantic version like 1.0.0 \(got "v1"\)/,
    ],
    [
      'params that are not an object',
      () => defineStep({ kind: 'a.b', version: '1.0.0', params: z.string(), run: async () => ({}) }),
      /params must be a zod object schema/,
    ],
    [
      'an output that is not an object',
      () =>
        defineStep({
          kind: 'a.b',
          version: '1.0.0',
          params: z.object({}),
          output: z.array(z.string()),
          run: async () => [],
        }),
      /output must be a zod object schema/,
    ],
    [
      // `\_` is a valid escape for JavaScript, not in the unicode mode the API's validator compiles with.
      'a schema the API could not compile',
      () =>
        defineStep({
          kind: 'a.b',
          version: '1.0.0',
          params: z.object({ code: z.string().regex(new RegExp(IDENTITY_ESCAPE)) }),
          run: async () => ({}),
        }),
      /step a\.b: the JSON Schema of params: Invalid regular expression/,
    ],
    [
      'a secret that is not a param',
      () =>
        defineStep({
          kind: 'a.b',
          version: '1.0.0',
          params: z.object({ url: z.string() }),
          secrets: ['token'],
          run: async () => ({}),
        }),
      /secrets token are not params of the step/,
    ],
    [
      'a timeout that is not a duration',
      () =>
        defineStep({
          kind: 'a.b',
          version: '1.0.0',
          params: z.object({}),
          timeout: 'soon',
          run: async () => ({}),
        }),
      /timeout must be seconds or a duration like 30s, 5m \(got soon\)/,
    ],
    [
      'a description over 500 characters',
      () =>
        defineStep({
          kind: 'a.b',
          version: '1.0.0',
          description: 'x'.repeat(501),
          params: z.object({}),
          run: async () => ({}),
        }),
      /description must be at most 500 characters/,
    ],
  ];
  it.each(refusals)('refuses %s', (_, define, message) => {
    expect(define).toThrow(DefinitionError);
    expect(define).toThrow(message);
  });
});

describe('runStep (one attempt without Temporal)', () => {
  it('gives run the parsed params (defaults applied) and input, and returns its output', async () => {
    expect(await runStep(lookup, { params: PARAMS, input: { customer: { id: 'c7' }, other: 1 } })).toEqual({
      name: 'customer c7 (name)',
    });
  });

  it('refuses bad params with every field path, before run', async () => {
    const failure = await runStep(lookup, {
      params: { url: 'not a url', fields: ['a', 3] },
      input: { customer: { id: 'c7' } },
    }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(PermanentError);
    const { message } = failure as Error;
    expect(message).toMatch(/^step crm\.lookup: invalid params: /);
    expect(message).toContain('params.url: ');
    expect(message).toContain('params.token: ');
    expect(message).toContain('params.fields[1]: ');
  });

  it('refuses robot data that does not fit the input schema', async () => {
    await expect(runStep(lookup, { params: PARAMS, input: { customer: {} } })).rejects.toThrow(
      /step crm\.lookup: the robot's data does not fit: input\.customer\.id: /,
    );
  });

  it('refuses an output that does not match its schema', async () => {
    await expect(
      runStep(lookup, { params: PARAMS, input: { customer: { id: 'bad-output' } } }),
    ).rejects.toThrow(/^step returned an output that does not match its schema: output\.name: /);
  });

  it('takes a run that returns nothing as an empty output', async () => {
    const step = defineStep({
      kind: 'a.b',
      version: '1.0.0',
      params: z.object({}),
      run: async () => undefined,
    });
    expect(await runStep(step)).toEqual({});
  });
});

describe('the step activity', () => {
  const activity = stepActivity(lookup, { moduleName: 'crm', logger });
  const failureOf = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (err: unknown) => err,
    );
  const outcomes = async () => {
    const metric = await moduleSteps.get();
    return Object.fromEntries(
      metric.values
        .filter((value) => value.labels.module === 'crm')
        .map((value) => [String(value.labels.outcome), value.value]),
    );
  };

  it('returns the output and counts the step', async () => {
    expect(await activity(attempt(PARAMS, { customer: { id: 'c1' } }))).toEqual({
      name: 'customer c1 (name)',
    });
    expect((await outcomes()).ok).toBe(1);
  });

  it('turns a PermanentError into a non-retryable failure with its type and details', async () => {
    const failure = await failureOf(activity(attempt(PARAMS, { customer: { id: 'missing' } })));
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({
      message: 'no such customer',
      type: 'PermanentError',
      nonRetryable: true,
      details: [{ id: 'missing' }],
    });
    expect((await outcomes()).permanent).toBe(1);
  });

  it('turns invalid params into a non-retryable failure naming the fields', async () => {
    const failure = await failureOf(activity(attempt({ url: 'x' }, { customer: { id: 'c1' } })));
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'InvalidStepData', nonRetryable: true });
    expect((failure as Error).message).toContain('params.url: ');
    expect((failure as ApplicationFailure).details?.[0]).toMatchObject({
      issues: expect.arrayContaining([expect.objectContaining({ field: 'params.token' })]),
    });
  });

  it('lets any other error through as it is: Temporal retries it', async () => {
    const failure = await failureOf(activity(attempt(PARAMS, { customer: { id: 'flaky' } })));
    expect(failure).not.toBeInstanceOf(ApplicationFailure);
    expect((failure as Error).message).toBe('connection reset');
    expect((await outcomes()).failed).toBe(1);
  });

  it('passes an ApplicationFailure the step throws unchanged', async () => {
    const thrown = ApplicationFailure.nonRetryable('own verdict', 'OwnType');
    const step = defineStep({
      kind: 'a.b',
      version: '1.0.0',
      params: z.object({}),
      run: async () => {
        throw thrown;
      },
    });
    const failure = await failureOf(stepActivity(step, { moduleName: 'own', logger })(attempt({}, {})));
    expect(failure).toBe(thrown);
  });

  it('aborts the signal and fails the attempt, retryable, past the step’s timeout', async () => {
    let signal: AbortSignal | undefined;
    const step = defineStep({
      kind: 'a.slow',
      version: '1.0.0',
      params: z.object({}),
      timeout: '200ms',
      run: async (context) => {
        signal = context.signal;
        await new Promise((resolve) => setTimeout(resolve, 5000).unref()); // ignores the signal on purpose
        return {};
      },
    });
    const started = Date.now();
    const failure = await failureOf(stepActivity(step, { moduleName: 'slow', logger })(attempt({}, {})));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: STEP_TIMEOUT_FAILURE, nonRetryable: false });
    expect((failure as Error).message).toBe('step find (a.slow) ran past its timeout of 0.2s on this module');
    expect(signal?.aborted).toBe(true);
  });
});

describe('secret params at the module', () => {
  const secrets = new Map([['crm-token', 'sekr3t-value']]);
  const activities = { 'crm.lookup': stepActivity(lookup, { moduleName: 'crm', logger }) };
  const wrapped = withSecretParams(activities, async (name) => secrets.get(name) ?? null, {
    'crm.lookup': lookup.secrets,
  });

  it('resolves a declared secret param before run and redacts its value from the output', async () => {
    const output = await wrapped['crm.lookup'](
      attempt({ ...PARAMS, token: { $secret: 'crm-token' } }, { customer: { id: 'echo' } }),
    );
    expect(output).toEqual({ name: '[secret:crm-token]' });
  });

  it('refuses a reference in a param the kind does not declare secret', async () => {
    await expect(
      wrapped['crm.lookup'](
        attempt({ ...PARAMS, url: { $secret: 'crm-token' } }, { customer: { id: 'c1' } }),
      ),
    ).rejects.toMatchObject({ type: 'SecretNotAllowed', nonRetryable: true });
  });

  it('without DATABASE_URL and SECRETS_KEYS, fails a step that needs a secret, for good and saying why', async () => {
    const store = await moduleSecrets(parseConfig({}));
    const noStore = withSecretParams(activities, store.reveal, { 'crm.lookup': lookup.secrets });
    const failure = await noStore['crm.lookup'](
      attempt({ ...PARAMS, token: { $secret: 'crm-token' } }, { customer: { id: 'c1' } }),
    ).catch((err: unknown) => err);
    expect(failure).toMatchObject({ nonRetryable: true });
    expect((failure as Error).message).toBe(`secret "crm-token" is unavailable: ${NO_SECRET_STORE}`);
    await store.close();
  });
});

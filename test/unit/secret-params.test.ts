import { Writable } from 'node:stream';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { StepInput } from '../../activities/types';
import { robotTypeDefinitionSchema, robotTypeRegistrationSchema } from '../../core/domain/robot-types';
import { createLogger } from '../../core/observability/logger';
import { redactLogLine, redactText, withRevealedSecrets } from '../../core/observability/secret-redaction';
import { redactError, resolveSecretParams, withSecretParams } from '../../workers/secret-params';

// The module-side rules of ADR 0014: references resolve only in a kind's secret params, and the
// values never leave a step in what it returns, throws or logs.

const VALUE = 'tok-3c9f"\\1';
const secrets = new Map([
  ['crm-token', VALUE],
  ['other', 'other-value'],
]);
const reveal = async (name: string) => secrets.get(name) ?? null;

const step = (kind: string, params: Record<string, unknown>): StepInput['step'] =>
  ({ name: 'call', kind, params, timeoutSeconds: 30 }) as StepInput['step'];
const input = (params: Record<string, unknown>, kind = 'noop'): StepInput => ({
  robotId: 'r1',
  step: step(kind, params),
  input: {},
  previous: {},
});

describe('resolving secret params', () => {
  it('resolves references inside a declared param, at any depth', async () => {
    const { params, revealed } = await resolveSecretParams(
      step('noop', { headers: { Authorization: { $secret: 'crm-token' } }, ms: 0 }),
      ['headers'],
      reveal,
    );
    expect(params).toEqual({ headers: { Authorization: VALUE }, ms: 0 });
    expect([...revealed]).toEqual([['crm-token', VALUE]]);
  });

  it('refuses a reference in any other param without looking it up', async () => {
    const looked: string[] = [];
    const failure = await resolveSecretParams(
      step('validate', { from: { $secret: 'crm-token' } }),
      [],
      async (name) => {
        looked.push(name);
        return VALUE;
      },
    ).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).type).toBe('SecretNotAllowed');
    expect((failure as ApplicationFailure).nonRetryable).toBe(true);
    expect((failure as Error).message).toBe(
      'step call: param from holds a reference to secret "crm-token", but a validate step takes secrets in none of its params',
    );
    expect(looked).toEqual([]);
  });

  it('names a nested misplaced reference by its path', async () => {
    const failure = await resolveSecretParams(
      step('noop', { token: { $secret: 'crm-token' }, list: [1, { $secret: 'other' }] }),
      ['token'],
      reveal,
    ).catch((err: unknown) => err);
    expect((failure as Error).message).toMatch(
      /^step call: param list\[1\] holds a reference to secret "other"/,
    );
  });

  it('fails a missing secret naming it only', async () => {
    const failure = await resolveSecretParams(
      step('noop', { token: { $secret: 'gone' } }),
      ['token'],
      reveal,
    ).catch((err: unknown) => err);
    expect((failure as ApplicationFailure).type).toBe('SecretNotFound');
    expect((failure as Error).message).toBe('secret "gone" does not exist');
  });
});

describe('a step holding a secret', () => {
  const wrap = (run: (input: StepInput) => Promise<Record<string, unknown>>) =>
    withSecretParams({ noop: run }, reveal, { noop: ['token'] }).noop;

  it('gets the value; what it returns has it replaced, in values and keys', async () => {
    let seen: unknown;
    const output = await wrap(async ({ step: { params } }) => {
      seen = params.token;
      return { echo: params.token, [String(params.token)]: [`Bearer ${params.token}`], at: new Date(0) };
    })(input({ token: { $secret: 'crm-token' } }));
    expect(seen).toBe(VALUE);
    expect(output).toEqual({
      echo: '[secret:crm-token]',
      '[secret:crm-token]': ['Bearer [secret:crm-token]'],
      at: '1970-01-01T00:00:00.000Z',
    });
  });

  it('throws with the value taken out of message, stack, details and every cause', async () => {
    const failure = await wrap(async ({ step: { params } }) => {
      throw ApplicationFailure.create({
        message: `refused ${params.token}`,
        type: 'Leaky',
        nonRetryable: true,
        details: [{ token: params.token }],
        cause: new Error(`because ${params.token}`, { cause: `raw ${params.token}` }),
      });
    })(input({ token: { $secret: 'crm-token' } })).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    const app = failure as ApplicationFailure;
    expect(app.message).toBe('refused [secret:crm-token]');
    expect(app.type).toBe('Leaky');
    expect(app.nonRetryable).toBe(true);
    expect(app.details).toEqual([{ token: '[secret:crm-token]' }]);
    expect(app.cause?.message).toBe('because [secret:crm-token]');
    expect(app.cause?.cause).toBe('raw [secret:crm-token]');
    expect(app.stack).not.toContain(VALUE);
    expect(app.cause?.stack).not.toContain(VALUE);
  });

  it('keeps the class of what it redacts (a cancellation stays one)', async () => {
    const cancelled = new CancelledFailure(`cancelled while holding ${VALUE}`);
    const redacted = redactError(cancelled, secrets);
    expect(redacted).toBe(cancelled);
    expect((redacted as Error).message).toBe('cancelled while holding [secret:crm-token]');
  });

  it('replaces an error it cannot change by a failure with its redacted text', () => {
    const frozen = Object.freeze(new TypeError(`bad ${VALUE}`));
    const redacted = redactError(frozen, secrets) as ApplicationFailure;
    expect(redacted).toBeInstanceOf(ApplicationFailure);
    expect(redacted.message).toBe('bad [secret:crm-token]');
    expect(redacted.type).toBe('TypeError');
  });

  it('a thrown string is redacted too', async () => {
    const failure = await wrap(async ({ step: { params } }) => {
      throw `plain ${params.token}`;
    })(input({ token: { $secret: 'crm-token' } })).catch((err: unknown) => err);
    expect(failure).toBe('plain [secret:crm-token]');
  });

  it('the log lines it writes carry the name, never the value, raw or JSON-escaped', async () => {
    const lines: string[] = [];
    const logger = createLogger(
      { LOG_LEVEL: 'info', NODE_ENV: 'test' },
      'module',
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    await wrap(async ({ step: { params } }) => {
      logger.info({ token: params.token }, `using ${params.token}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      logger.info(`still ${params.token} after a timer`);
      return {};
    })(input({ token: { $secret: 'crm-token' } }));
    logger.info(`outside a step ${VALUE}`);
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      token: '[secret:crm-token]',
      msg: 'using [secret:crm-token]',
    });
    expect(JSON.parse(lines[1] ?? '').msg).toBe('still [secret:crm-token] after a timer');
    expect(lines.slice(0, 2).join('')).not.toContain(JSON.stringify(VALUE).slice(1, -1));
    // Outside a step nothing is known to be secret: the line is written as it is.
    expect(JSON.parse(lines[2] ?? '').msg).toBe(`outside a step ${VALUE}`);
  });

  it('a step without references runs untouched', async () => {
    const output = await wrap(async ({ step: { params } }) => ({ echo: params.ms }))(input({ ms: 5 }));
    expect(output).toEqual({ echo: 5 });
  });
});

describe('redaction', () => {
  it('replaces the longer of two overlapping values whole', () => {
    const overlapping = new Map([
      ['short', 'abc'],
      ['long', 'abcdef'],
    ]);
    expect(redactText('x abcdef y abc', overlapping)).toBe('x [secret:long] y [secret:short]');
  });

  it('falls back to text replacement for a line that is not JSON', () => {
    const line = withRevealedSecrets(secrets, () =>
      redactLogLine(`plain ${VALUE} and ${JSON.stringify(VALUE)}\n`),
    );
    expect(line).toBe('plain [secret:crm-token] and "[secret:crm-token]"\n');
  });
});

describe('registration', () => {
  const type = (params: Record<string, unknown>, kind = 'validate') => ({
    name: 'leaky',
    steps: [
      { name: 'first', kind: 'noop' },
      { name: 'check', kind, params },
    ],
  });

  it('refuses a reference in a param its kind does not declare secret, naming step and param', () => {
    const result = robotTypeRegistrationSchema.safeParse(type({ from: { $secret: 'crm-token' } }));
    expect(result.success).toBe(false);
    expect(result.error?.issues).toEqual([
      expect.objectContaining({
        path: ['steps', 1, 'params', 'from'],
        message:
          'step check: param from may not hold a secret reference; a validate step takes secrets in none of its params',
      }),
    ]);
  });

  it('refuses it deep inside a param, and in a built-in-style definition too', () => {
    const nested = type({ categories: { a: [{ $secret: 'crm-token' }] } }, 'classify');
    const result = robotTypeRegistrationSchema.safeParse(nested);
    expect(result.error?.issues[0]?.path).toEqual(['steps', 1, 'params', 'categories', 'a', 0]);
    expect(robotTypeDefinitionSchema.safeParse({ ...nested, version: 1 }).success).toBe(false);
  });

  it('accepts params without references', () => {
    expect(robotTypeRegistrationSchema.safeParse(type({ required: ['text'] })).success).toBe(true);
  });
});

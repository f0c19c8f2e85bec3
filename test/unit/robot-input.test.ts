import { emailIntakeType } from '../../core/domain/email-intake.type';
import { invoiceIntakeType } from '../../core/domain/invoice-intake.type';
import { checkRobotInput, inputSchemaProblem } from '../../core/domain/robot-input';
import { robotTypeDefinitionSchema, robotTypeRegistrationSchema } from '../../core/domain/robot-types';
import { robotWorkflowArgs } from '../../core/domain/robot-workflow.contract';

// Every built-in type's schema compiles: test/integration/robot-types.test.ts reads them from the API.
const invoiceIntake = robotTypeDefinitionSchema.parse(invoiceIntakeType(0.8));
const emailIntake = robotTypeDefinitionSchema.parse(emailIntakeType);
const schemaOf = (type: { name: string; inputSchema?: Record<string, unknown> }) => {
  if (!type.inputSchema) throw new Error(`${type.name} has no inputSchema`);
  return type.inputSchema;
};

describe('robot input schemas', () => {
  it('the intake types declare one that compiles', () => {
    expect(inputSchemaProblem(schemaOf(invoiceIntake))).toBeNull();
    expect(inputSchemaProblem(schemaOf(emailIntake))).toBeNull();
  });

  it('invoice-intake names the missing documentId', () => {
    expect(checkRobotInput(schemaOf(invoiceIntake), { text: 'Invoice 42, total 120 EUR' })).toEqual([
      { field: 'body.input.documentId', path: '/documentId', message: 'is required' },
    ]);
    expect(checkRobotInput(schemaOf(invoiceIntake), { documentId: 'not-an-id' })).toEqual([
      {
        field: 'body.input.documentId',
        path: '/documentId',
        message: expect.stringMatching(/^must match pattern/),
      },
    ]);
    expect(
      checkRobotInput(schemaOf(invoiceIntake), { documentId: '3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f' }),
    ).toEqual([]);
  });

  it('email-intake takes what the mailbox monitor makes, with or without an accepted attachment', () => {
    const email = { from: '', to: [], subject: '', text: '', messageId: null, mailbox: 'intake' };
    expect(
      checkRobotInput(schemaOf(emailIntake), {
        documentId: '3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f',
        documentIds: ['3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f'],
        rejectedAttachments: [{ fileName: 'notes.txt', reason: 'not a document' }],
        email,
      }),
    ).toEqual([]);
    expect(
      checkRobotInput(schemaOf(emailIntake), {
        documentIds: [],
        rejectedAttachments: [{ fileName: null, reason: 'too large' }],
        email,
      }),
    ).toEqual([]);
  });

  it('names every failing field, escaped keys included', () => {
    const schema = {
      type: 'object',
      required: ['a/b', 'n'],
      properties: { n: { type: 'integer' }, list: { type: 'array', items: { type: 'string' } } },
      additionalProperties: false,
    };
    expect(checkRobotInput(schema, { n: 'x', list: ['ok', 3], extra: 1 })).toEqual([
      { field: 'body.input.a/b', path: '/a~1b', message: 'is required' },
      { field: 'body.input.extra', path: '/extra', message: 'is not allowed' },
      { field: 'body.input.n', path: '/n', message: 'must be integer' },
      { field: 'body.input.list.1', path: '/list/1', message: 'must be string' },
    ]);
  });

  it('a type without a schema takes any object', () => {
    expect(checkRobotInput(undefined, { anything: [1, { a: 2 }] })).toEqual([]);
  });

  it.each([
    ['a misspelt keyword', { type: 'object', requried: ['x'] }, /unknown keyword: "requried"/],
    ['a remote reference', { $ref: 'https://example.com/schema.json' }, /can't resolve reference/],
    ['another draft', { $schema: 'http://json-schema.org/draft-04/schema#' }, /draft 2020-12/],
    ['a non-object root', { type: 'string' }, /must accept an object/],
    [
      'a bad pattern',
      { type: 'object', properties: { a: { type: 'string', pattern: '(' } } },
      /Invalid regular expression/,
    ],
  ])('registration refuses %s', (_label, inputSchema, message) => {
    const result = robotTypeRegistrationSchema.safeParse({
      name: 'typed',
      inputSchema,
      steps: [{ name: 'only', kind: 'noop' }],
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues).toEqual([
      expect.objectContaining({ path: ['inputSchema'], message: expect.stringMatching(message) }),
    ]);
  });

  it('registration takes draft 2020-12 (the default) and draft-07 schemas', () => {
    for (const $schema of [
      undefined,
      'https://json-schema.org/draft/2020-12/schema',
      'http://json-schema.org/draft-07/schema#',
    ]) {
      const result = robotTypeRegistrationSchema.safeParse({
        name: 'typed',
        inputSchema: { ...($schema ? { $schema } : {}), type: 'object', required: ['x'] },
        steps: [{ name: 'only', kind: 'noop' }],
      });
      expect(result.success).toBe(true);
    }
  });

  it('stays out of the workflow: the run carries the pipeline only', () => {
    const type = invoiceIntake;
    const args = robotWorkflowArgs({
      config: {
        MODULE_WAIT_SECONDS: 1,
        ROBOT_PARK_TIMEOUT: 1000,
        APPROVAL_TIMEOUT: 1000,
        APPROVAL_ESCALATION_TIMEOUT: 1000,
        MODULE_PICKUP_TIMEOUT_SECONDS: 1,
        STEP_HEARTBEAT_TIMEOUT_SECONDS: 1,
      },
      robotId: 'r1',
      definition: type,
      input: {},
      priority: 'normal',
    });
    expect(args.definition).not.toHaveProperty('inputSchema');
    expect(args.definition.steps).toEqual(type.steps);
  });
});

import {
  createTriggerBody,
  inputMappingSchema,
  mapInput,
  updateTriggerBody,
} from '../../core/domain/trigger';

const webhook = { id: 'msg_1', timestamp: 1_700_000_000 };
const body = { order: { id: 42, customer: { name: 'Ada' }, 'a/b': 'slash' }, items: ['x', 'y'] };

describe('trigger input mappings', () => {
  it('take the body itself when there is no mapping; an array or scalar body is refused', () => {
    expect(mapInput(null, body, webhook)).toEqual({ ok: true, input: body });
    expect(mapInput(null, [1], webhook)).toEqual({ ok: false, message: 'the body must be a JSON object' });
  });

  it('pick fields by JSON Pointer, naming every missing one', () => {
    const mapping = inputMappingSchema.parse({
      pointers: { orderId: '/order/id', name: '/order/customer/name', first: '/items/0', odd: '/order/a~1b' },
    });
    expect(mapInput(mapping, body, webhook)).toEqual({
      ok: true,
      input: { orderId: 42, name: 'Ada', first: 'x', odd: 'slash' },
    });
    const missing = inputMappingSchema.parse({ pointers: { a: '/nope', b: '/order/id', c: '/items/9' } });
    expect(mapInput(missing, body, webhook)).toEqual({
      ok: false,
      message: 'the body has no value for a (/nope), c (/items/9)',
    });
  });

  it('render a template over the body and the webhook', () => {
    const mapping = inputMappingSchema.parse({
      template: {
        orderId: '{{ body.order.id }}',
        text: 'Order {{body.order.id}} for {{ body.order.customer.name }}',
        ref: '{{ webhook.id }}',
      },
    });
    expect(mapInput(mapping, body, webhook)).toEqual({
      ok: true,
      input: { orderId: 42, text: 'Order 42 for Ada', ref: 'msg_1' },
    });
    const gap = inputMappingSchema.parse({ template: { x: '{{ body.order.total }}' } });
    expect(mapInput(gap, body, webhook)).toEqual({
      ok: false,
      message: 'the template: no value for {{body.order.total}}',
    });
  });

  it('refuse bad pointers, bad templates and mappings that are neither or both', () => {
    const issues = (value: unknown) => {
      const result = inputMappingSchema.safeParse(value);
      return result.success
        ? []
        : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    };
    expect(issues({ pointers: { a: 'order/id' } })).toEqual([
      'pointers.a: a JSON Pointer like /data/id (~0 for ~, ~1 for /)',
    ]);
    expect(issues({ pointers: { a: '/x~2' } })).toHaveLength(1);
    expect(issues({ pointers: {} })).toEqual(['pointers: at least one field']);
    expect(issues({ template: { a: '{{ input.x }}' } })).toEqual([
      'template: /a: {{input.x}} must start with body or webhook (body.field, webhook.id)',
    ]);
    expect(issues({ template: { a: { b: ['{{ body.x '] } } })).toEqual([
      'template: /a/b/0: a placeholder is malformed (use {{ body.path.to.field }})',
    ]);
    expect(issues({})).toEqual([': give either pointers or template']);
    expect(issues({ pointers: { a: '/a' }, template: {} })).toEqual([': give either pointers or template']);
    expect(issues({ jsonata: '$' })).toContain(': Unrecognized key: "jsonata"');
  });

  it('validate create and update bodies', () => {
    expect(createTriggerBody.parse({ name: 'orders', robotType: 'demo' })).toEqual({
      name: 'orders',
      robotType: 'demo',
      priority: 'normal',
      inputMapping: null,
    });
    expect(createTriggerBody.safeParse({ name: 'Orders!', robotType: 'demo' }).success).toBe(false);
    expect(createTriggerBody.safeParse({ name: 'orders', robotType: 'demo', extra: 1 }).success).toBe(false);
    expect(updateTriggerBody.safeParse({}).success).toBe(false);
    expect(updateTriggerBody.safeParse({ rotateSecret: true, secret: 'whsec_x' }).success).toBe(false);
    expect(updateTriggerBody.parse({ inputMapping: null })).toEqual({ inputMapping: null });
  });
});

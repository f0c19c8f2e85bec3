import { z } from 'zod';
import { STEP_PARAMS_SCHEMAS } from '../../core/domain/step-params';
import { isOpenObject, schemaProperties } from '../../dashboard/schema-summary.mjs';
import { type CatalogKind, type KindModule, stepCoverage } from '../../dashboard/step-coverage.mjs';

// The pure halves of the dashboard's Steps and Robot types views: schemas in words, and whether a
// live module would take a robot type's step.

describe('dashboard: schema summary', () => {
  it('reads the http-request params schema the catalog serves as rows a person can scan', () => {
    const schema = STEP_PARAMS_SCHEMAS['http-request'];
    if (!schema) throw new Error('http-request has a params schema');
    // The same conversion api/step-kinds.service.ts applies.
    const rows = schemaProperties(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }));
    const byName = new Map(rows.map((row) => [row.name, row]));
    expect(rows.map((row) => row.name)).toEqual([
      'method',
      'url',
      'headers',
      'body',
      'form',
      'timeoutSeconds',
      'acceptStatus',
      'pick',
      'maxResponseBytes',
    ]);
    expect(byName.get('url')).toEqual({
      name: 'url',
      type: 'string',
      required: true,
      details: ['length 8–2048', 'pattern ^https?:\\/\\/'],
    });
    expect(byName.get('method')).toEqual({
      name: 'method',
      type: 'string',
      required: false,
      details: ['one of GET, POST, PUT, PATCH, DELETE', 'default GET'],
    });
    expect(byName.get('headers')?.type).toBe('map of string | secret ref');
    expect(byName.get('form')?.type).toBe('map of string | secret ref | number | boolean');
    expect(byName.get('acceptStatus')?.type).toBe('array of number | string');
    expect(byName.get('body')?.type).toBe('any');
    expect(byName.get('maxResponseBytes')?.details).toEqual(['default 262144', '1024–1048576']);
  });

  it('writes exclusive bounds as such and tells an open object from a schema with content', () => {
    const [row] = schemaProperties({
      type: 'object',
      properties: { ratio: { type: 'number', exclusiveMinimum: 0, maximum: 1, description: 'share' } },
    });
    expect(row?.details).toEqual(['share', '> 0, ≤ 1']);
    expect(isOpenObject({})).toBe(true);
    expect(isOpenObject({ type: 'object' })).toBe(true);
    expect(isOpenObject({ $schema: 'x', type: 'object', additionalProperties: {} })).toBe(true);
    expect(isOpenObject({ type: 'object', required: ['a'] })).toBe(false);
    expect(schemaProperties({ type: 'string' })).toEqual([]);
  });
});

describe('dashboard: step coverage', () => {
  const module = (name: string, fields: Partial<KindModule> = {}): KindModule => ({
    name,
    live: true,
    replicas: 1,
    isActive: true,
    draining: false,
    ...fields,
  });
  const catalog = (...kinds: CatalogKind[]) => new Map(kinds.map((kind) => [kind.name, kind]));
  const anyType = new Map<string, { supportedRobotTypes?: string[] }>();

  it('names the live modules that would take the step', () => {
    const kinds = catalog({
      name: 'ocr',
      runsOn: 'module',
      modules: [module('a', { replicas: 2 }), module('b', { live: false, replicas: 0 })],
    });
    expect(stepCoverage({ kind: 'ocr' }, 't', kinds, anyType)).toEqual({
      runsOn: 'module',
      servers: [{ name: 'a', replicas: 2 }],
      problem: null,
    });
  });

  it('needs no module for a workflow kind', () => {
    const kinds = catalog({ name: 'delay', runsOn: 'workflow', modules: [] });
    expect(stepCoverage({ kind: 'delay' }, 't', kinds, anyType).problem).toBeNull();
  });

  it('says why nobody would take it: unknown kind, no server, none live, none for this type', () => {
    const kinds = catalog(
      { name: 'send-email', runsOn: 'module', modules: [] },
      { name: 'ocr', runsOn: 'module', modules: [module('scanner', { live: false, replicas: 0 })] },
      {
        name: 'extract',
        runsOn: 'module',
        modules: [module('only-invoices'), module('leaving', { draining: true })],
      },
    );
    const types = new Map([['only-invoices', { supportedRobotTypes: ['invoice-intake'] }]]);
    expect(stepCoverage({ kind: 'ledger.post' }, 't', kinds, types).problem).toBe(
      'No module has registered kind ledger.post.',
    );
    expect(stepCoverage({ kind: 'send-email' }, 't', kinds, types).problem).toBe(
      'No module serves send-email.',
    );
    expect(stepCoverage({ kind: 'ocr' }, 't', kinds, types).problem).toBe(
      'No live module serves ocr (scanner: not live).',
    );
    expect(stepCoverage({ kind: 'extract' }, 't', kinds, types).problem).toBe(
      'No live module serves extract for robot type t (only-invoices: does not run t; leaving: draining).',
    );
    expect(stepCoverage({ kind: 'extract' }, 'invoice-intake', kinds, types).servers).toEqual([
      { name: 'only-invoices', replicas: 1 },
    ]);
  });
});

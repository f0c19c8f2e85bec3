import { registerModuleBody } from '../../api/schemas';
import { customStepProblems } from '../../core/domain/custom-step-params';
import { compareSemver, majorOf } from '../../core/domain/semver';
import {
  builtInDeclaration,
  currentDeclaration,
  type DeclaredStepKind,
  type StepDeclaration,
} from '../../core/domain/step-declarations';
import { MODULE_STEP_KINDS } from '../../core/domain/step-kinds';

describe('semver order', () => {
  it.each([
    ['1.0.0', '0.9.9', 1],
    ['1.10.0', '1.9.0', 1],
    ['1.0.0', '1.0.0-rc.1', 1],
    ['1.0.0-rc.2', '1.0.0-rc.10', -1],
    ['1.0.0-alpha', '1.0.0-alpha.1', -1],
    ['1.0.0+build.5', '1.0.0', 0],
  ])('%s against %s is %i', (a, b, order) => {
    expect(compareSemver(a, b)).toBe(order);
    expect(compareSemver(b, a)).toBe(-order || 0);
  });

  it('reads the major', () => {
    expect(majorOf('12.3.4')).toBe('12');
  });
});

const declared = (
  moduleName: string,
  version: string,
  moduleActive: boolean,
  updatedAt = new Date('2026-01-01T00:00:00Z'),
): DeclaredStepKind => ({
  ...builtInDeclaration('noop'),
  kind: 'ledger.post',
  version,
  moduleName,
  moduleActive,
  updatedAt,
});

describe("a kind's current declaration", () => {
  it('is the highest version among active modules, however high an inactive one declared', () => {
    const current = currentDeclaration([
      declared('a', '1.2.0', true),
      declared('b', '1.10.0', true),
      declared('c', '9.0.0', false),
    ]);
    expect(current?.moduleName).toBe('b');
  });

  it('is the newest on a tie', () => {
    const current = currentDeclaration([
      declared('a', '1.2.0', true, new Date('2026-01-02T00:00:00Z')),
      declared('b', '1.2.0', true, new Date('2026-01-03T00:00:00Z')),
      declared('c', '1.2.0', true, new Date('2026-01-01T00:00:00Z')),
    ]);
    expect(current?.moduleName).toBe('b');
  });

  it('falls back to inactive modules when no active one declares the kind', () => {
    expect(
      currentDeclaration([declared('a', '1.0.0', false), declared('b', '2.0.0', false)])?.moduleName,
    ).toBe('b');
    expect(currentDeclaration([])).toBeUndefined();
  });
});

describe('the built-in declarations', () => {
  it.each(MODULE_STEP_KINDS)('%s is a declaration registration takes', (kind) => {
    const result = registerModuleBody.safeParse({
      name: 'own',
      version: '0.1.0',
      capacity: 1,
      steps: [builtInDeclaration(kind)],
    });
    expect(result.error?.issues).toBeUndefined();
  });
});

describe('custom steps against their declaration', () => {
  const contract: StepDeclaration = {
    kind: 'crm.lookup',
    version: '1.0.0',
    description: '',
    params: {
      type: 'object',
      properties: {
        token: { type: 'string', pattern: '^tok_' },
        headers: { type: 'object', additionalProperties: { type: 'string', minLength: 30 } },
        limit: { type: 'integer' },
      },
    },
    input: { type: 'object' },
    output: { type: 'object' },
    secretParams: ['token', 'headers'],
  };
  const check = (params: Record<string, unknown>) =>
    customStepProblems([{ name: 'look', kind: 'crm.lookup', params }], new Map([['crm.lookup', contract]]));

  it('lets a reference stand for any string, at the top or nested in a secret param', () => {
    expect(check({ token: { $secret: 'a' }, headers: { Authorization: { $secret: 'b' } } })).toEqual([]);
  });

  it('still refuses a reference where no string fits, and a plain value the schema refuses', () => {
    expect(check({ token: 'nope', limit: 1.5 })).toEqual([
      { field: 'body.steps.0.params.token', message: 'step look: must match pattern "^tok_"' },
      { field: 'body.steps.0.params.limit', message: 'step look: must be integer' },
    ]);
    expect(check({ headers: { $secret: 'whole' } })).toEqual([
      { field: 'body.steps.0.params.headers', message: 'step look: must be object' },
    ]);
  });

  it('skips built-in kinds: their params have their own checks', () => {
    expect(
      customStepProblems([{ name: 'n', kind: 'noop', params: { x: { $secret: 'a' } } }], new Map()),
    ).toEqual([]);
  });
});

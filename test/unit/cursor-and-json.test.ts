import { decodeCursor, encodeCursor } from '../../api/cursor';
import { ValidationError } from '../../core/domain/errors';
import { stableStringify } from '../../core/domain/stable-json';

describe('list cursor', () => {
  it('round-trips', () => {
    const cursor = {
      at: new Date('2026-01-02T03:04:05.678Z'),
      id: '6f1c1e9e-3b1a-4c55-9a55-0d5f3c1e2b7a',
    };
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
  });

  it.each([
    '',
    'bm9wZQ',
    Buffer.from('2026-01-01T00:00:00Z|not-a-uuid').toString('base64url'),
    Buffer.from('x|y|z').toString('base64url'),
  ])('rejects %j with a validation error', (raw) => {
    expect(() => decodeCursor(raw)).toThrow(ValidationError);
  });
});

describe('stableStringify', () => {
  it('ignores key order at every depth', () => {
    expect(stableStringify({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe(
      stableStringify({ a: { c: null, d: [1, { y: 2, z: 1 }] }, b: 1 }),
    );
  });

  it('distinguishes different values', () => {
    expect(stableStringify({ a: 1 })).not.toBe(stableStringify({ a: '1' }));
    expect(stableStringify([1, 2])).not.toBe(stableStringify([2, 1]));
  });

  it('drops undefined like JSON does', () => {
    expect(stableStringify({ a: undefined, b: 2 })).toBe('{"b":2}');
  });
});

import { generateKey, keyMatches, keyPrefix, parseDuration } from '../../core/adapters/crypto/api-keys';
import { newKeyEntry, open, seal } from '../../core/adapters/crypto/secret-box';
import { parseKeyring } from '../../core/config-fields';
import { hasScope, parseScopes } from '../../core/domain/api-key-scopes';
import { inspectJson } from '../../core/domain/json-inspect';
import { stripControlChars, stripControlCharsDeep } from '../../core/domain/text';

describe('inspectJson', () => {
  it.each([
    ['{"a":1,"a":2}', 'duplicate key "a"'],
    ['{"a":{"b":1,"c":{"b":2},"b":3}}', 'duplicate key "b"'],
    ['{"__proto__":{}}', '"__proto__"'],
    ['{"a":[{"constructor":1}]}', '"constructor"'],
    ['{"\\u0070rototype":1}', '"prototype"'],
    ['[[[[[[1]]]]]]', 'deeper than 5'],
  ])('%s -> %s', (text, message) => {
    expect(inspectJson(text, 5)?.message).toContain(message);
  });

  it.each([
    '{"a":"__proto__","b":"\\"__proto__\\":1,"}',
    '{"a":{"b":1},"c":{"b":1}}',
    '[{"a":1},{"a":1}]',
    '{"a":"{[[[[[[[[[["}',
    '{"broken',
  ])('accepts %s', (text) => {
    expect(inspectJson(text, 5)).toBeNull();
  });
});

describe('stripControlChars', () => {
  it('removes escapes, NUL, zero-width and bidi controls; keeps tab and newlines unless single-line', () => {
    expect(stripControlChars('a\u001b[1mb\u0000c\u200bd\u202ee\u2066f\tg\nh')).toBe('a[1mbcdef\tg\nh');
    expect(stripControlChars('a\tb\nc', { singleLine: true })).toBe('abc');
    expect(stripControlCharsDeep({ 'k\u0000': ['x\u202ey', 1, null] })).toEqual({ k: ['xy', 1, null] });
  });
});

describe('api keys', () => {
  it('match only themselves, and admin implies every scope', () => {
    const { key, prefix, hash } = generateKey();
    expect(key).toMatch(/^rpa_[a-z0-9]{8}_[A-Za-z0-9_-]{43}$/);
    expect(keyPrefix(key)).toBe(prefix);
    expect(keyMatches(key, hash)).toBe(true);
    expect(keyMatches(`${key}x`, hash)).toBe(false);
    expect(keyPrefix('rpa_short_x')).toBeNull();
    expect(hasScope(['admin'], 'modules:write')).toBe(true);
    expect(hasScope(['robots:read'], 'robots:write')).toBe(false);
    expect(parseScopes('robots:read, admin,robots:read')).toEqual(['robots:read', 'admin']);
    expect(() => parseScopes('root')).toThrow(/unknown scope/);
    expect(parseDuration('90d')).toBe(90 * 86_400_000);
    expect(() => parseDuration('3y')).toThrow();
  });
});

describe('secret box', () => {
  it('seals with the first key, opens with any, and binds the name', () => {
    const old = parseKeyring(newKeyEntry('old'));
    const other = parseKeyring(newKeyEntry('new'));
    const sealed = seal(old, 'token', 'hunter2');
    expect(sealed.keyId).toBe('old');
    expect(JSON.stringify(sealed)).not.toContain('hunter2');
    expect(open(old, 'token', sealed)).toBe('hunter2');
    expect(() => open(old, 'other-name', sealed)).toThrow(/could not be decrypted/);
    expect(() => open(other, 'token', sealed)).toThrow(/key "old", which is not configured/);
    expect(() => open(old, 'token', { ...sealed, tag: Buffer.alloc(16).toString('base64') })).toThrow(
      /could not be decrypted/,
    );
  });

  it.each([
    '',
    'x',
    'id:c2hvcnQ=',
    `a:${Buffer.alloc(32).toString('base64')},a:${Buffer.alloc(32).toString('base64')}`,
  ])('refuses the keyring %j', (text) => {
    expect(() => parseKeyring(text)).toThrow();
  });
});

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { CONFIG_KEYS, ConfigError, parseConfig } from '../../core/config';

describe('parseConfig', () => {
  it('gives documented defaults for an empty environment', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      PORT: 3000,
      HOST: '127.0.0.1',
      TEMPORAL_ADDRESS: '127.0.0.1:7233',
      TEMPORAL_NAMESPACE: 'default',
      CONTROL_TASK_QUEUE: 'rpa-control',
      LOG_LEVEL: 'info',
    });
    expect(config.IDEMPOTENCY_KEY_TTL_HOURS).toBe(24);
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.REDIS_URL).toBeUndefined();
  });

  it('coerces numbers and booleans', () => {
    const config = parseConfig({ PORT: '8080', TEMPORAL_TLS: 'true', DATABASE_POOL_SIZE: '25' });
    expect(config).toMatchObject({ PORT: 8080, TEMPORAL_TLS: true, DATABASE_POOL_SIZE: 25 });
  });

  it('treats empty strings as unset', () => {
    expect(parseConfig({ DATABASE_URL: '', PORT: '' }).PORT).toBe(3000);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://x@y/z'],
    ['REDIS_URL', 'not a url'],
    ['TEMPORAL_ADDRESS', 'no-port'],
    ['LOG_LEVEL', 'loud'],
    ['TEMPORAL_TLS', 'maybe'],
    ['MODULE_NAME', 'Bad Name'],
    ['ALERT_LATENCY_P99_MS', '50'],
    ['ALERT_CACHE_HIT_RATIO', '0.9'],
    ['SMTP_URL', 'http://relay'],
    ['TEMPORAL_METRICS_BIND', '9464'],
    ['IDEMPOTENCY_KEY_TTL_HOURS', '0'],
    ['IDEMPOTENCY_KEY_TTL_HOURS', '1.5'],
    ['IDEMPOTENCY_KEY_TTL_HOURS', '8761'],
  ])('names the bad variable %s=%s', (name, value) => {
    expect(() => parseConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => parseConfig({ [name]: value })).toThrow(new RegExp(`^Invalid configuration:\\n  ${name}: `));
  });

  it('lists every bad variable at once', () => {
    try {
      parseConfig({ PORT: 'x', LOG_LEVEL: 'y' });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect((err as Error).message).toMatch(/PORT/);
      expect((err as Error).message).toMatch(/LOG_LEVEL/);
    }
  });
});

describe('TRUST_PROXY', () => {
  it.each([
    [undefined, false],
    ['false', false],
    ['0', false],
    ['1', 1],
    ['2', 2],
    ['10.0.0.1', ['10.0.0.1']],
    ['loopback, 10.0.0.0/8,fd00::/8', ['loopback', '10.0.0.0/8', 'fd00::/8']],
  ])('reads %s as %p', (value, expected) => {
    expect(parseConfig(value === undefined ? {} : { TRUST_PROXY: value }).TRUST_PROXY).toEqual(expected);
  });

  it('refuses true, which would let any client choose its IP', () => {
    expect(() => parseConfig({ TRUST_PROXY: 'true' })).toThrow(
      /^Invalid configuration:\n {2}TRUST_PROXY: true would let any client choose its IP/,
    );
  });

  it.each(['11', 'yes', '10.0.0.0/33', '10.0.0.1/8/1', 'example.com', 'loopback,,nope'])(
    'refuses %s',
    (value) => {
      expect(() => parseConfig({ TRUST_PROXY: value })).toThrow(/^Invalid configuration:\n {2}TRUST_PROXY: /);
    },
  );
});

describe('production mode', () => {
  it('refuses to fall back to the embedded database', () => {
    expect(() => parseConfig({ NODE_ENV: 'production' })).toThrow(
      /^Invalid configuration:\n {2}DATABASE_URL: is required when NODE_ENV=production/,
    );
  });

  it('starts with a database named', () => {
    const config = parseConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://app@db:5432/rpa' });
    expect(config.DATABASE_URL).toBe('postgres://app@db:5432/rpa');
  });
});

describe('a process started with a bad environment', () => {
  it('exits 2 with a readable message and no stack trace', () => {
    const result = spawnSync(process.execPath, [path.join(__dirname, '../../bin/rpa'), 'migrate'], {
      env: { ...process.env, PORT: 'not-a-port' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('PORT: ');
    expect(result.stderr).toContain('.env.example');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('.env.example', () => {
  const text = require('node:fs').readFileSync(path.join(__dirname, '../../.env.example'), 'utf8') as string;
  const entries = text
    .split('\n')
    .map((line) => line.replace(/^#\s?/, '').trim())
    .map((line) => /^([A-Z][A-Z0-9_]*)=(\S*)/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null);

  it('lists every configuration variable', () => {
    const listed = new Set(entries.map((match) => match[1]));
    expect(CONFIG_KEYS.filter((key) => !listed.has(key))).toEqual([]);
    expect([...listed].filter((key) => !CONFIG_KEYS.includes(key as never))).toEqual([]);
  });

  it('shows values that parse', () => {
    const env = Object.fromEntries(entries.map((match) => [match[1], match[2]]));
    expect(() => parseConfig(env)).not.toThrow();
  });
});

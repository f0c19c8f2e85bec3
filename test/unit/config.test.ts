import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

describe('production needs (per command)', () => {
  const database = { NODE_ENV: 'production', DATABASE_URL: 'postgres://app@db:5432/rpa' };
  const serving = ['redis', 'secrets', 'temporal'] as const;
  const complete = {
    ...database,
    REDIS_URL: 'redis://redis:6379',
    SECRETS_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
    TEMPORAL_ADDRESS: 'temporal:7233',
  };

  it('names every missing setting of a serving process at once, with why', () => {
    let message = '';
    try {
      parseConfig(database, { needs: serving });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message.split('\n')).toEqual([
      'Invalid configuration:',
      expect.stringMatching(/^ {2}REDIS_URL: is required when NODE_ENV=production \(/),
      expect.stringMatching(/^ {2}SECRETS_KEYS: is required when NODE_ENV=production \(/),
      expect.stringMatching(
        /^ {2}TEMPORAL_ADDRESS: must be set when NODE_ENV=production .*127\.0\.0\.1:7233/,
      ),
    ]);
  });

  it.each([
    ['REDIS_URL', 'redis'],
    ['SECRETS_KEYS', 'secrets'],
    ['TEMPORAL_ADDRESS', 'temporal'],
  ] as const)('refuses a serving process without %s alone', (name, _need) => {
    const { [name]: _dropped, ...rest } = complete;
    expect(() => parseConfig(rest, { needs: serving })).toThrow(
      new RegExp(`^Invalid configuration:\n {2}${name}: [^\n]+$`),
    );
  });

  it('counts TEMPORAL_ADDRESS only when set, even to the default value', () => {
    expect(
      parseConfig({ ...complete, TEMPORAL_ADDRESS: '127.0.0.1:7233' }, { needs: serving }).TEMPORAL_ADDRESS,
    ).toBe('127.0.0.1:7233');
    expect(() => parseConfig({ ...complete, TEMPORAL_ADDRESS: '' }, { needs: serving })).toThrow(
      /TEMPORAL_ADDRESS/,
    );
  });

  it('starts a serving process with all of them', () => {
    expect(parseConfig(complete, { needs: serving })).toMatchObject({ REDIS_URL: 'redis://redis:6379' });
  });

  it('asks nothing more of a process that needs only the database (rpa migrate)', () => {
    expect(parseConfig(database, { needs: [] }).DATABASE_URL).toBe(database.DATABASE_URL);
  });

  it('asks nothing outside production', () => {
    expect(parseConfig({ NODE_ENV: 'development' }, { needs: serving }).REDIS_URL).toBeUndefined();
  });
});

describe('Temporal environment configuration (TOML profiles)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rpa-envconfig-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const toml = (name: string, text: string) => {
    writeFileSync(path.join(dir, name), text);
    return path.join(dir, name);
  };
  const file = toml(
    'temporal.toml',
    [
      '[profile.default]',
      'address = "self-hosted.internal:7233"',
      'namespace = "rpa"',
      '[profile.cloud]',
      'address = "rpa.a1b2c.tmprl.cloud:7233"',
      'namespace = "rpa.a1b2c"',
      '[profile.cloud.tls]',
      'client_cert_path = "/etc/temporal/client.pem"',
      'client_key_data = "-----BEGIN PRIVATE KEY-----"',
      'server_name = "rpa.a1b2c.tmprl.cloud"',
      '[profile.apikey]',
      'address = "eu-west-1.aws.api.temporal.io:7233"',
      'namespace = "rpa.a1b2c"',
      'api_key = "key-from-file"',
      '[profile.plain]',
      'address = "proxy:7233"',
      'api_key = "k"',
      '[profile.plain.tls]',
      'disabled = true',
    ].join('\n'),
  );

  it('fills address and namespace from the default profile', () => {
    expect(parseConfig({ TEMPORAL_CONFIG_FILE: file })).toMatchObject({
      TEMPORAL_ADDRESS: 'self-hosted.internal:7233',
      TEMPORAL_NAMESPACE: 'rpa',
    });
  });

  it('reads the profile TEMPORAL_PROFILE names, with its TLS settings as files or inline PEM', () => {
    expect(parseConfig({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud' })).toMatchObject({
      TEMPORAL_ADDRESS: 'rpa.a1b2c.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'rpa.a1b2c',
      TEMPORAL_TLS: true,
      TEMPORAL_TLS_CLIENT_CERT_PATH: '/etc/temporal/client.pem',
      TEMPORAL_TLS_CLIENT_KEY_DATA: '-----BEGIN PRIVATE KEY-----',
      TEMPORAL_TLS_SERVER_NAME: 'rpa.a1b2c.tmprl.cloud',
    });
    expect(parseConfig({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'apikey' }).TEMPORAL_API_KEY).toBe(
      'key-from-file',
    );
    expect(parseConfig({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'plain' }).TEMPORAL_TLS).toBe(false);
  });

  it('lets the environment win over the file', () => {
    const config = parseConfig({
      TEMPORAL_CONFIG_FILE: file,
      TEMPORAL_PROFILE: 'apikey',
      TEMPORAL_API_KEY: 'env-key',
    });
    expect(config).toMatchObject({
      TEMPORAL_API_KEY: 'env-key',
      TEMPORAL_ADDRESS: 'eu-west-1.aws.api.temporal.io:7233',
    });
  });

  it("counts the profile's address as the production Temporal address", () => {
    const env = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://app@db:5432/rpa',
      TEMPORAL_CONFIG_FILE: file,
    };
    expect(parseConfig(env, { needs: ['temporal'] }).TEMPORAL_ADDRESS).toBe('self-hosted.internal:7233');
  });

  it.each([
    [
      'a file that is not there',
      { TEMPORAL_CONFIG_FILE: path.join(dir, 'missing.toml') },
      /missing\.toml does not exist/,
    ],
    [
      'an unknown profile',
      { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'staging' },
      /Profile 'staging' not found/,
    ],
    [
      'a misspelt key',
      { TEMPORAL_CONFIG_FILE: toml('typo.toml', '[profile.default]\nadress = "x:1"\n') },
      /unrecognized in profile\.default: adress/,
    ],
    ['bad TOML', { TEMPORAL_CONFIG_FILE: toml('bad.toml', '[profile.default\n') }, /./],
  ])('refuses %s under TEMPORAL_CONFIG_FILE', (_what, env, message) => {
    expect(() => parseConfig(env)).toThrow(/^Invalid configuration:\n {2}TEMPORAL_CONFIG_FILE: /);
    expect(() => parseConfig(env)).toThrow(message);
  });

  it('refuses a profile address that is not host:port, naming the variable', () => {
    const env = { TEMPORAL_CONFIG_FILE: toml('noport.toml', '[profile.default]\naddress = "temporal"\n') };
    expect(() => parseConfig(env)).toThrow(
      /^Invalid configuration:\n {2}TEMPORAL_ADDRESS: must be host:port/,
    );
  });
});

describe('Temporal TLS settings', () => {
  it.each([
    [{ TEMPORAL_TLS_CLIENT_CERT_PATH: '/c.pem' }, 'TEMPORAL_TLS_CLIENT_KEY_PATH'],
    [{ TEMPORAL_TLS_CERT_PATH: '/c.pem' }, 'TEMPORAL_TLS_CLIENT_KEY_PATH'],
    [{ TEMPORAL_TLS_CLIENT_KEY_DATA: 'KEY' }, 'TEMPORAL_TLS_CLIENT_CERT_PATH'],
  ])('refuses half an mTLS pair %p', (env, name) => {
    expect(() => parseConfig(env)).toThrow(
      new RegExp(`^Invalid configuration:\n {2}${name}: mTLS needs both the client certificate and its key`),
    );
  });

  it('refuses a file and inline PEM for the same thing', () => {
    expect(() =>
      parseConfig({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/ca.pem', TEMPORAL_TLS_SERVER_CA_CERT_DATA: 'CA' }),
    ).toThrow(
      /TEMPORAL_TLS_SERVER_CA_CERT_PATH: give one of TEMPORAL_TLS_SERVER_CA_CERT_PATH or _DATA|give one of/,
    );
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

  // The guard is per command: the API refuses one-machine fallbacks, `rpa migrate` needs only the
  // database (here one that is not there: it gets past the configuration and fails to connect).
  const production = {
    ...process.env,
    NODE_ENV: 'production',
    DATABASE_URL: 'postgres://app@127.0.0.1:1/rpa',
    DATABASE_MIGRATION_URL: '',
    REDIS_URL: '',
    SECRETS_KEYS: '',
    TEMPORAL_ADDRESS: '',
    TEMPORAL_CONFIG_FILE: '',
    TEMPORAL_PROFILE: '',
  };
  const rpa = (args: string[]) =>
    spawnSync(process.execPath, [path.join(__dirname, '../../bin/rpa'), ...args], {
      env: production,
      encoding: 'utf8',
      timeout: 30_000,
    });

  it.each([[['api']], [['worker', '--control']], [['worker', '--module', 'ocr']]])(
    'rpa %p in production without Redis, secrets key or Temporal address exits 2 naming all three',
    (args) => {
      const result = rpa(args);
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(/REDIS_URL: is required when NODE_ENV=production/);
      expect(result.stderr).toMatch(/SECRETS_KEYS: is required when NODE_ENV=production/);
      expect(result.stderr).toMatch(/TEMPORAL_ADDRESS: must be set when NODE_ENV=production/);
    },
  );

  it('rpa migrate in production asks only for the database', () => {
    const result = rpa(['migrate']);
    expect(result.status).not.toBe(0);
    expect(result.status).not.toBe(2);
    expect(result.stderr).not.toMatch(/Invalid configuration/);
    expect(result.stderr).toMatch(/ECONNREFUSED|connect/);
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

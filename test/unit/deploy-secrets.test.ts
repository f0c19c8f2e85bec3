import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../core/config';
import { parseKeyring } from '../../core/config-fields';
import { compose, ROOT, record } from '../support/compose-file';

// The compose stack's secrets: deploy/make-secrets.sh writes one file per secret, Compose mounts
// them as /run/secrets/NAME, and deploy/docker-entrypoint.sh (the image's entrypoint) exports each
// as the variable NAME before it runs the app. Both scripts run here for real, under sh.

const MAKE_SECRETS = path.join(ROOT, 'deploy/make-secrets.sh');
const ENTRYPOINT = path.join(ROOT, 'deploy/docker-entrypoint.sh');

let dir = '';

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'rpa-secrets-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function makeSecrets(target: string) {
  const result = spawnSync('sh', [MAKE_SECRETS, target], { encoding: 'utf8' });
  expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
  return result.stdout;
}

/** The environment node sees when the entrypoint starts it with these secrets and this env. */
function envThroughEntrypoint(secretsDir: string, env: Record<string, string> = {}): Record<string, string> {
  const result = spawnSync(
    'sh',
    [ENTRYPOINT, process.execPath, '-e', 'process.stdout.write(JSON.stringify(process.env))'],
    { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', RPA_SECRETS_DIR: secretsDir, ...env } },
  );
  expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
  return JSON.parse(result.stdout);
}

describe('deploy/make-secrets.sh', () => {
  test('writes exactly the secrets docker-compose.yml declares, in a directory only the owner reads', () => {
    const secrets = path.join(dir, 'secrets');
    makeSecrets(secrets);
    expect(readdirSync(secrets).sort()).toEqual(Object.keys(record(compose.secrets, 'secrets')).sort());
    expect(statSync(secrets).mode & 0o777).toBe(0o700);
    // Readable by the containers' users (uid 1000, nobody): bind-mounted secrets keep this mode.
    for (const file of readdirSync(secrets))
      expect(statSync(path.join(secrets, file)).mode & 0o044).toBe(0o044);
  });

  test('makes values the app accepts: a 32-byte keyring and a long metrics token', () => {
    const secrets = path.join(dir, 'secrets');
    makeSecrets(secrets);
    const env = envThroughEntrypoint(secrets);
    const config = parseConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://a:b@db/rpa', ...env });
    expect(config.SECRETS_KEYS).toBeDefined();
    expect(parseKeyring(config.SECRETS_KEYS ?? '').current.key).toHaveLength(32);
    expect(config.METRICS_TOKEN?.length).toBeGreaterThanOrEqual(32);
    // Left empty for the operator: the app then treats SMTP_URL as unset (send-email fails clearly).
    expect(config.SMTP_URL).toBeUndefined();
    expect(readFileSync(path.join(secrets, 'grafana_admin_password'), 'utf8').trim()).toMatch(
      /^[0-9a-f]{32}$/,
    );
  });

  test('never replaces an existing secret (a new key would leave sealed robot secrets unreadable)', () => {
    const secrets = path.join(dir, 'secrets');
    makeSecrets(secrets);
    const before = readFileSync(path.join(secrets, 'SECRETS_KEYS'), 'utf8');
    writeFileSync(path.join(secrets, 'SMTP_URL'), 'smtp://relay.example:587\n');
    const output = makeSecrets(secrets);
    expect(output).toContain('SECRETS_KEYS exists, kept');
    expect(readFileSync(path.join(secrets, 'SECRETS_KEYS'), 'utf8')).toBe(before);
    expect(readFileSync(path.join(secrets, 'SMTP_URL'), 'utf8')).toBe('smtp://relay.example:587\n');
  });

  test('two runs make different keys', () => {
    makeSecrets(path.join(dir, 'a'));
    makeSecrets(path.join(dir, 'b'));
    for (const name of ['SECRETS_KEYS', 'METRICS_TOKEN']) {
      expect(readFileSync(path.join(dir, 'a', name), 'utf8')).not.toBe(
        readFileSync(path.join(dir, 'b', name), 'utf8'),
      );
    }
  });
});

describe('deploy/docker-entrypoint.sh', () => {
  test('exports each secret file as its variable, without the trailing newline', () => {
    writeFileSync(path.join(dir, 'METRICS_TOKEN'), 'token-with-a-space and-more\n\n');
    writeFileSync(path.join(dir, 'SMTP_URL'), 'smtp://user:p%40ss@relay:587');
    const env = envThroughEntrypoint(dir);
    expect(env.METRICS_TOKEN).toBe('token-with-a-space and-more');
    expect(env.SMTP_URL).toBe('smtp://user:p%40ss@relay:587');
  });

  test('leaves a variable the environment already sets alone', () => {
    writeFileSync(path.join(dir, 'METRICS_TOKEN'), 'from-the-file');
    expect(envThroughEntrypoint(dir, { METRICS_TOKEN: 'from-the-environment' }).METRICS_TOKEN).toBe(
      'from-the-environment',
    );
  });

  test('skips files whose names cannot be variables, and runs without a secrets directory', () => {
    writeFileSync(path.join(dir, 'grafana_admin_password'), 'x');
    writeFileSync(path.join(dir, 'BAD-NAME'), 'x');
    writeFileSync(path.join(dir, '1ST'), 'x');
    const env = envThroughEntrypoint(dir);
    expect(Object.keys(env).filter((key) => /grafana|BAD|1ST/.test(key))).toEqual([]);
    expect(envThroughEntrypoint(path.join(dir, 'missing')).PATH).toBe(process.env.PATH);
  });

  test('passes the command its arguments and exit status unchanged', () => {
    const result = spawnSync('sh', [ENTRYPOINT, 'sh', '-c', 'echo "$1|$2"; exit 7', 'sh', 'a b', '$HOME'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', RPA_SECRETS_DIR: dir },
    });
    expect(result.stdout).toBe('a b|$HOME\n');
    expect(result.status).toBe(7);
  });
});

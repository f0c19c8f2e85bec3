import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Ajv from 'ajv';
import { compose, ROOT, read } from '../support/compose-file';

// docker-compose.yml against the Compose Specification's JSON schema, vendored in
// test/fixtures/compose-spec (source and licence there): nothing is downloaded here. Where the
// compose plugin is installed, `docker compose config` parses the file too; it is not installed
// where these tests usually run (no Docker engine), and then only the schema speaks.

const schema = JSON.parse(read('test/fixtures/compose-spec/compose-spec.json'));
// strict: false, because the schema uses annotations (deprecated, …) that Ajv's strict mode refuses.
const ajv = new Ajv({ allErrors: true, strict: false });
// The schema names draft-07 by its https address; Ajv ships that meta-schema under the http one.
const draft07 = JSON.parse(readFileSync(require.resolve('ajv/dist/refs/json-schema-draft-07.json'), 'utf8'));
ajv.addMetaSchema({ ...draft07, $id: schema.$schema });
const validate = ajv.compile(schema);

function errorsOf(document: unknown): string[] {
  return validate(document)
    ? []
    : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
}

/** The compose plugin, when this machine has one (null otherwise). */
function composeCommand(): string[] | null {
  for (const command of [['docker', 'compose'], ['docker-compose']]) {
    const [bin = '', ...args] = command;
    const probe = spawnSync(bin, [...args, 'version'], { encoding: 'utf8', timeout: 10_000 });
    if (probe.status === 0) return command;
  }
  return null;
}

describe('docker-compose.yml against the Compose Specification', () => {
  test('the vendored schema is the Compose Specification, and it rejects what it should', () => {
    expect(schema.title).toBe('Compose Specification');
    // The validator is not a yes-man: a wrong type, an unknown service key and a bad condition fail.
    expect(errorsOf({ services: { web: { image: 'nginx:1', ports: 'not-a-list' } } })).not.toEqual([]);
    expect(errorsOf({ services: { web: { image: 'nginx:1', stop_grace: '1s' } } })).not.toEqual([]);
    expect(
      errorsOf({
        services: { web: { image: 'nginx:1', depends_on: { db: { condition: 'service_ready' } } } },
      }),
    ).not.toEqual([]);
    expect(errorsOf({ services: { web: { image: 'nginx:1' } } })).toEqual([]);
  });

  test('the stack validates, with YAML merge keys resolved as Compose resolves them', () => {
    expect(errorsOf(compose)).toEqual([]);
  });

  test('`docker compose config` accepts it too where the compose plugin is installed', () => {
    // The schema check above always runs; this adds the real parser when it exists.
    expect(errorsOf(compose)).toEqual([]);
    const command = composeCommand();
    if (command === null) {
      expect(spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' }).status).not.toBe(0);
      return;
    }
    // A copy with generated secrets: the real deploy/secrets/ is the operator's and may not exist.
    const dir = mkdtempSync(path.join(tmpdir(), 'rpa-compose-'));
    try {
      cpSync(path.join(ROOT, 'docker-compose.yml'), path.join(dir, 'docker-compose.yml'));
      cpSync(path.join(ROOT, 'deploy'), path.join(dir, 'deploy'), { recursive: true });
      rmSync(path.join(dir, 'deploy', 'secrets'), { recursive: true, force: true });
      const secrets = spawnSync('sh', [path.join(dir, 'deploy', 'make-secrets.sh')], { encoding: 'utf8' });
      expect(secrets.status).toBe(0);
      const [bin = '', ...args] = command;
      const result = spawnSync(
        bin,
        [
          ...args,
          '-f',
          path.join(dir, 'docker-compose.yml'),
          '--profile',
          'observability',
          'config',
          '--quiet',
        ],
        { encoding: 'utf8', timeout: 60_000 },
      );
      expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Ajv from 'ajv';
import { compose, ROOT, read } from '../support/compose-file';

// docker-compose.yml against the Compose Specification's JSON schema, vendored in
// test/fixtures/compose-spec (source and licence there): nothing is downloaded here. No Docker engine
// or compose plugin runs where the tests run, so Compose's own loader (the compose-go library behind
// `docker compose config`) runs as tools/compose-config, built by npm test (scripts/go-examples.js).

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

const composeLoader = (require('../../scripts/go-examples.js') as { builtGoExample(name: string): string })
  .builtGoExample;

/**
 * Compose's own loader on a copy of the stack, with generated secrets (the real deploy/secrets/ is
 * the operator's and may not exist); `edit` changes the file first, for the refusals.
 */
function loadWithCompose(edit: (text: string) => string = (text) => text): {
  status: number | null;
  stderr: string;
} {
  const dir = mkdtempSync(path.join(tmpdir(), 'rpa-compose-'));
  try {
    writeFileSync(path.join(dir, 'docker-compose.yml'), edit(read('docker-compose.yml')));
    cpSync(path.join(ROOT, 'deploy'), path.join(dir, 'deploy'), { recursive: true });
    rmSync(path.join(dir, 'deploy', 'secrets'), { recursive: true, force: true });
    const secrets = spawnSync('sh', [path.join(dir, 'deploy', 'make-secrets.sh')], { encoding: 'utf8' });
    if (secrets.status !== 0) throw new Error(`make-secrets.sh failed: ${secrets.stderr}`);
    const result = spawnSync(
      composeLoader('compose-config'),
      ['-profile', 'observability', '-quiet', path.join(dir, 'docker-compose.yml')],
      { encoding: 'utf8', timeout: 60_000 },
    );
    return { status: result.status, stderr: result.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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

  test("Compose's own loader (compose-go, as `docker compose config`) accepts it", () => {
    // tools/compose-config: interpolation, the schema and the cross-references as Compose checks them.
    expect(loadWithCompose()).toEqual({ status: 0, stderr: '' });
  });

  test("Compose's loader refuses a bad condition and a secret that is not declared", () => {
    const badCondition = loadWithCompose((text) =>
      text.replace('condition: service_completed_successfully', 'condition: service_done'),
    );
    expect(badCondition.status).toBe(1);
    expect(badCondition.stderr).toContain("must be one of 'service_started'");
    const undeclared = loadWithCompose((text) =>
      text.replace('    - SECRETS_KEYS\n', '    - NO_SUCH_SECRET\n'),
    );
    expect(undeclared.status).toBe(1);
    expect(undeclared.stderr).toContain('refers to undefined secret NO_SUCH_SECRET');
  });
});

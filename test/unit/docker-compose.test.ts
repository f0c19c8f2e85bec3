import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { parseConfig } from '../../core/config';
import { SEARCH_ATTRIBUTE_NAMES } from '../../core/domain/search-attributes';

// No Docker engine (nor the compose plugin) runs where the tests run, so docker-compose.yml, the
// Dockerfile and the nginx config are checked statically: structure, references between services,
// and every app service's environment parsed by the real configuration schema.

const ROOT = path.resolve(__dirname, '..', '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function record(value: unknown, what: string): Json {
  if (!isRecord(value)) throw new Error(`${what} should be a mapping, got ${JSON.stringify(value)}`);
  return value;
}

function strings(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new Error(`${what} should be a list of strings, got ${JSON.stringify(value)}`);
  }
  return value;
}

const composeText = read('docker-compose.yml');
const composeDoc = parseDocument(composeText, { merge: true });
const compose = record(composeDoc.toJS(), 'docker-compose.yml');
const services = record(compose.services, 'services');

function service(name: string): Json {
  return record(services[name], `service ${name}`);
}

/** depends_on in either compose form, as target → condition. */
function dependsOn(name: string): Map<string, string> {
  const raw = service(name).depends_on;
  if (raw === undefined) return new Map();
  if (Array.isArray(raw)) {
    return new Map(strings(raw, `${name}.depends_on`).map((t) => [t, 'service_started']));
  }
  return new Map(
    Object.entries(record(raw, `${name}.depends_on`)).map(([target, spec]) => [
      target,
      String(record(spec, `${name}.depends_on.${target}`).condition ?? 'service_started'),
    ]),
  );
}

/** environment in either compose form, as the strings a container would see. */
function environment(name: string): Record<string, string> {
  const raw = service(name).environment;
  if (raw === undefined) return {};
  const entries: [string, unknown][] = Array.isArray(raw)
    ? strings(raw, `${name}.environment`).map((item) => {
        const at = item.indexOf('=');
        return at < 0 ? [item, undefined] : [item.slice(0, at), item.slice(at + 1)];
      })
    : Object.entries(record(raw, `${name}.environment`));
  return Object.fromEntries(
    entries.map(([key, value]) => {
      // Compose rejects booleans and objects here; null/undefined means "take it from the host".
      if (typeof value !== 'string' && typeof value !== 'number') {
        throw new Error(
          `${name}.environment.${key} must be a string or number, got ${JSON.stringify(value)}`,
        );
      }
      return [key, String(value)];
    }),
  );
}

/** Dockerfile instructions with line continuations joined and comments dropped. */
function dockerfileInstructions(text: string): { op: string; args: string }[] {
  return text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [op = '', ...rest] = line.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

const dockerfileText = read('Dockerfile');
const instructions = dockerfileInstructions(dockerfileText);
const runtimeStage = instructions.slice(instructions.map((i) => i.op).lastIndexOf('FROM'));

/** ENV of the final image stage: the app's environment before compose adds its own. */
const imageEnv: Record<string, string> = Object.fromEntries(
  runtimeStage
    .filter((i) => i.op === 'ENV')
    .flatMap((i) => i.args.split(/\s+/))
    .map((pair) => {
      const at = pair.indexOf('=');
      if (at < 1) throw new Error(`Dockerfile: use ENV KEY=value, got "${pair}"`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
);

const STACK = [
  'temporal-db',
  'temporal',
  'temporal-setup',
  'temporal-ui',
  'postgres',
  'redis',
  'migrate',
  'api',
  'control-worker',
  'module-worker',
  'nginx',
];
const APP_SERVICES = ['migrate', 'api', 'control-worker', 'module-worker'];
const LONG_RUNNING_APP_SERVICES = ['api', 'control-worker', 'module-worker'];

describe('docker-compose.yml', () => {
  test('is valid YAML without duplicate keys or warnings', () => {
    expect(composeDoc.errors.map((e) => e.message)).toEqual([]);
    expect(composeDoc.warnings.map((w) => w.message)).toEqual([]);
  });

  test('has no $VAR interpolation: values are literal (a shell $ must be written $$)', () => {
    // The checks below read values as written; compose would substitute these from the host.
    const lines = composeText.split('\n').filter((line) => /\$(?!\$)/.test(line.replace(/\$\$/g, '')));
    expect(lines).toEqual([]);
  });

  test('defines every service of the production-like stack', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(STACK));
  });

  test('every depends_on target is a service, with a condition it can satisfy', () => {
    const problems: string[] = [];
    for (const name of Object.keys(services)) {
      for (const [target, condition] of dependsOn(name)) {
        if (!(target in services)) {
          problems.push(`${name} depends on unknown service ${target}`);
          continue;
        }
        if (!['service_started', 'service_healthy', 'service_completed_successfully'].includes(condition)) {
          problems.push(`${name} → ${target}: unknown condition ${condition}`);
        }
        if (condition === 'service_healthy' && service(target).healthcheck === undefined) {
          problems.push(`${name} waits for ${target} to be healthy, but ${target} has no healthcheck`);
        }
        if (condition === 'service_completed_successfully' && (service(target).restart ?? 'no') !== 'no') {
          problems.push(`${name} waits for one-shot ${target} to finish, but ${target} restarts`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  test('the dependency graph has no cycle', () => {
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (name: string, trail: string[]): void => {
      if (state.get(name) === 'done') return;
      if (state.get(name) === 'visiting') throw new Error(`cycle: ${[...trail, name].join(' → ')}`);
      state.set(name, 'visiting');
      for (const target of dependsOn(name).keys()) if (target in services) visit(target, [...trail, name]);
      state.set(name, 'done');
    };
    expect(() => {
      for (const name of Object.keys(services)) visit(name, []);
    }).not.toThrow();
  });

  test.each(LONG_RUNNING_APP_SERVICES)(
    '%s starts only after migrate and temporal-setup succeeded',
    (name) => {
      const deps = dependsOn(name);
      expect(deps.get('migrate')).toBe('service_completed_successfully');
      expect(deps.get('temporal-setup')).toBe('service_completed_successfully');
    },
  );

  test.each([
    ['migrate', ['migrate']],
    ['api', ['api']],
    ['control-worker', ['worker', '--control']],
    ['module-worker', ['worker', '--module', 'default', '--capacity', '10']],
  ])('%s runs its rpa subcommand from the app image', (name, command) => {
    expect(service(name).command).toEqual(command);
    expect(service(name).image).toBe(service('api').image);
    expect(service(name).build).toBeDefined();
  });

  describe.each(APP_SERVICES)('%s environment', (name) => {
    test('is accepted by parseConfig (core/config.ts) together with the image ENV', () => {
      expect(() => parseConfig({ ...imageEnv, ...environment(name) })).not.toThrow();
    });

    test('uses only variable names that core/config.ts knows', () => {
      // parseConfig drops names its schema does not declare: a misspelt name would silently be ignored.
      const env = environment(name);
      const known = new Set(Object.keys(parseConfig({ ...imageEnv, ...env })));
      expect(Object.keys(env).filter((key) => !known.has(key))).toEqual([]);
    });

    test('points at the compose postgres (otherwise each container would use its own embedded PGlite)', () => {
      const url = new URL(environment(name).DATABASE_URL ?? 'missing://');
      const db = environment('postgres');
      expect(url.protocol).toBe('postgres:');
      expect(url.hostname).toBe('postgres');
      expect(url.port || '5432').toBe('5432');
      expect(url.pathname).toBe(`/${db.POSTGRES_DB}`);
    });

    test('connects as the app role deploy/app-db-role.sql creates, not as the owner (ADR 0033)', () => {
      const url = new URL(environment(name).DATABASE_URL ?? 'missing://');
      const role = read('deploy/app-db-role.sql').match(/CREATE ROLE (\w+) LOGIN PASSWORD '([^']+)'/);
      expect(decodeURIComponent(url.username)).toBe(role?.[1]);
      expect(decodeURIComponent(url.password)).toBe(role?.[2]);
      expect(decodeURIComponent(url.username)).not.toBe(environment('postgres').POSTGRES_USER);
    });
  });

  describe.each(LONG_RUNNING_APP_SERVICES)('%s connections', (name) => {
    const config = () => parseConfig({ ...imageEnv, ...environment(name) });

    test('reaches Temporal by its service name, on the namespace temporal-setup prepares', () => {
      const [host, port] = config().TEMPORAL_ADDRESS.split(':');
      expect(host).toBe('temporal');
      expect(port).toBe('7233');
      expect(config().TEMPORAL_NAMESPACE).toBe(environment('temporal-setup').TEMPORAL_NAMESPACE);
      expect(config().TEMPORAL_NAMESPACE).toBe(environment('temporal').DEFAULT_NAMESPACE);
    });

    test('runs in production mode with the prebuilt workflow bundle', () => {
      expect(config().WORKFLOW_BUNDLE_PATH).toBe('/app/dist/workflow-bundle.js');
      expect(config().NODE_ENV).toBe('production');
    });
  });

  test.each(['api', 'control-worker'])('%s shares the Redis status cache', (name) => {
    const config = parseConfig(environment(name));
    expect(config.REDIS_URL).toBeDefined();
    expect(new URL(config.REDIS_URL ?? '').hostname).toBe('redis');
  });

  test('api listens on all interfaces at the port its healthcheck and nginx use', () => {
    const config = parseConfig(environment('api'));
    expect(config.HOST).toBe('0.0.0.0');
    const healthcheck = strings(record(service('api').healthcheck, 'api.healthcheck').test, 'api test');
    expect(healthcheck.join(' ')).toContain(`http://127.0.0.1:${config.PORT}/health`);
    expect(read('deploy/nginx.conf')).toMatch(new RegExp(`server\\s+api:${config.PORT}[\\s;]`));
  });

  test('api and module-worker run two replicas; replicated services publish no fixed host port', () => {
    const replicas = (name: string) => record(service(name).deploy ?? {}, `${name}.deploy`).replicas;
    expect(replicas('api')).toBe(2);
    expect(replicas('module-worker')).toBe(2);
    for (const [name, spec] of Object.entries(services)) {
      const count = Number(record(record(spec, name).deploy ?? {}, `${name}.deploy`).replicas ?? 1);
      if (count > 1) {
        expect({ name, ports: record(spec, name).ports }).toEqual({ name, ports: undefined });
        expect({ name, container_name: record(spec, name).container_name }).toEqual({
          name,
          container_name: undefined,
        });
      }
    }
  });

  test('publishes nginx on 8080 and the Temporal UI on 8233, each host port once', () => {
    const published = Object.entries(services).flatMap(([name, spec]) =>
      (record(spec, name).ports === undefined ? [] : strings(record(spec, name).ports, `${name}.ports`)).map(
        (port) => ({ name, host: port.split(':').slice(-2, -1)[0], container: port.split(':').at(-1) }),
      ),
    );
    expect(published).toEqual(
      expect.arrayContaining([
        { name: 'nginx', host: '8080', container: '80' },
        { name: 'temporal-ui', host: '8233', container: '8080' },
      ]),
    );
    const hosts = published.map((p) => p.host);
    expect(hosts).toEqual([...new Set(hosts)]);
    expect(new URL(parseConfig(environment('api')).TEMPORAL_UI_URL).port).toBe('8233');
  });

  test('every image is pinned to a tag other than latest', () => {
    const unpinned = Object.entries(services).flatMap(([name, spec]) => {
      const image = record(spec, name).image;
      if (typeof image !== 'string') return [`${name}: no image`];
      if (image.includes('@sha256:')) return [];
      const lastPart = image.split('/').at(-1) ?? '';
      const tag = lastPart.includes(':') ? lastPart.split(':').at(-1) : undefined;
      return !tag || tag === 'latest' ? [`${name}: ${image}`] : [];
    });
    expect(unpinned).toEqual([]);
  });

  test('postgres, redis and api have the health checks their dependants wait for', () => {
    const healthTest = (name: string) => {
      const check = record(service(name).healthcheck, `${name}.healthcheck`).test;
      return Array.isArray(check) ? check.join(' ') : String(check);
    };
    expect(healthTest('postgres')).toContain('pg_isready');
    expect(healthTest('temporal-db')).toContain('pg_isready');
    expect(healthTest('redis')).toContain('redis-cli ping');
    expect(healthTest('api')).toContain('/health');
  });

  test('bind-mounted files exist and named volumes are declared', () => {
    const declared = Object.keys(record(compose.volumes ?? {}, 'volumes'));
    const problems: string[] = [];
    for (const [name, spec] of Object.entries(services)) {
      const volumes = record(spec, name).volumes;
      for (const volume of volumes === undefined ? [] : strings(volumes, `${name}.volumes`)) {
        const source = volume.split(':')[0] ?? '';
        if (source.startsWith('.')) {
          if (!existsSync(path.join(ROOT, source))) problems.push(`${name}: ${source} does not exist`);
        } else if (!source.startsWith('/') && !declared.includes(source)) {
          problems.push(`${name}: volume ${source} is not declared`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(service('nginx').volumes).toContain('./deploy/nginx.conf:/etc/nginx/nginx.conf:ro');
    expect(service('postgres').volumes).toContain(
      './deploy/app-db-role.sql:/docker-entrypoint-initdb.d/10-app-role.sql:ro',
    );
  });

  test('migrate runs as the owner and grants the app role (DATABASE_MIGRATION_URL)', () => {
    const env = environment('migrate');
    const db = environment('postgres');
    const owner = new URL(env.DATABASE_MIGRATION_URL ?? 'missing://');
    expect(decodeURIComponent(owner.username)).toBe(db.POSTGRES_USER);
    expect(decodeURIComponent(owner.password)).toBe(db.POSTGRES_PASSWORD);
    expect(owner.hostname).toBe('postgres');
    expect(owner.pathname).toBe(`/${db.POSTGRES_DB}`);
    expect(env.DATABASE_URL).toBe(environment('api').DATABASE_URL);
  });

  test('API replicas and workers share one document store (uploads are read by module workers)', () => {
    for (const name of ['api', 'control-worker', 'module-worker']) {
      const spec = service(name);
      expect(strings(spec.volumes, `${name}.volumes`)).toContain('documents:/data/documents');
      expect(record(spec.environment, `${name}.environment`).DOCUMENTS_DIR).toBe('/data/documents');
    }
    expect(Object.keys(record(compose.volumes ?? {}, 'volumes'))).toContain('documents');
    expect(read('Dockerfile')).toMatch(/chown node:node \/data\/documents/);
  });

  test('temporal-setup registers exactly the search attributes the code uses, as Keyword', () => {
    const setup = service('temporal-setup');
    expect(String(setup.image)).toMatch(/^temporalio\/admin-tools:/);
    const mount = strings(setup.volumes, 'temporal-setup.volumes')[0] ?? '';
    const [source, target] = mount.split(':');
    expect(strings(setup.entrypoint, 'temporal-setup.entrypoint')).toContain(target);
    const script = read(source ?? '');
    const list = /^SEARCH_ATTRIBUTES="([^"]*)"$/m.exec(script)?.[1]?.split(/\s+/) ?? [];
    expect([...list].sort()).toEqual([...SEARCH_ATTRIBUTE_NAMES].sort());
    expect(script).toMatch(/temporal operator search-attribute create .*--address "\$ADDRESS"/s);
    expect(script).toContain('--type Keyword');
    expect(script).toContain('already exists');
  });
});

describe('deploy/nginx.conf', () => {
  const conf = read('deploy/nginx.conf').replace(/#.*$/gm, '');

  test('has balanced braces', () => {
    let depth = 0;
    let lowest = 0;
    for (const char of conf) {
      depth += char === '{' ? 1 : char === '}' ? -1 : 0;
      lowest = Math.min(lowest, depth);
    }
    expect({ depth, lowest }).toEqual({ depth: 0, lowest: 0 });
  });

  test('load-balances the api replicas through Docker DNS and proxies to that upstream', () => {
    const upstream = /upstream\s+(\S+)\s*\{([^}]*)\}/.exec(conf);
    expect(upstream?.[2]).toMatch(/server\s+api:\d+\s+resolve\b/);
    expect(conf).toMatch(/resolver\s+127\.0\.0\.11\b/);
    expect(conf).toContain(`proxy_pass http://${upstream?.[1]};`);
  });

  test('passes X-Request-Id', () => {
    expect(conf).toMatch(/proxy_set_header\s+X-Request-Id\s+\$\S+;/);
  });

  // The API trusts nginx's X-Forwarded-For (TRUST_PROXY): appending to the client's own header
  // would let the client put any address in front of the one nginx saw.
  test('overwrites X-Forwarded-For and X-Real-IP with the address nginx saw', () => {
    const headers = [...conf.matchAll(/proxy_set_header\s+(\S+)\s+([^;]+);/g)].map((m) => [
      (m[1] ?? '').toLowerCase(),
      (m[2] ?? '').trim(),
    ]);
    const valuesOf = (name: string) =>
      headers.filter(([header]) => header === name).map(([, value]) => value);
    expect(valuesOf('x-forwarded-for')).toEqual(['$remote_addr']);
    expect(valuesOf('x-real-ip')).toEqual(['$remote_addr']);
    expect(conf).not.toContain('$proxy_add_x_forwarded_for');
  });
});

describe('Dockerfile', () => {
  test('builds on node:20-bookworm-slim', () => {
    const args = Object.fromEntries(
      instructions
        .filter((i) => i.op === 'ARG' && i.args.includes('='))
        .map((i) => i.args.split('=') as [string, string]),
    );
    const bases = instructions
      .filter((i) => i.op === 'FROM')
      .map((i) =>
        (i.args.split(/\s+/)[0] ?? '').replace(/^\$\{(\w+)\}$/, (_, name: string) => args[name] ?? ''),
      );
    expect(bases.length).toBeGreaterThan(1);
    const stages = new Set(
      instructions.filter((i) => i.op === 'FROM').map((i) => i.args.split(/\s+AS\s+/i)[1] ?? ''),
    );
    for (const base of bases) if (!stages.has(base)) expect(base).toBe('node:20-bookworm-slim');
  });

  test('installs with npm ci and prebuilds the workflow bundle the workers load', () => {
    const runs = instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
    expect(runs.some((run) => /\bnpm ci\b/.test(run))).toBe(true);
    expect(runs.some((run) => run.includes('npm run build:workflows'))).toBe(true);
    expect(imageEnv.WORKFLOW_BUNDLE_PATH).toBe('/app/dist/workflow-bundle.js');
    expect(runtimeStage.some((i) => i.op === 'COPY' && i.args.includes('dist/workflow-bundle.js'))).toBe(
      true,
    );
    expect(read('package.json')).toContain('"build:workflows": "tsx scripts/build-workflow-bundle.ts"');
  });

  test('runs the rpa CLI as a non-root user', () => {
    const user = runtimeStage.filter((i) => i.op === 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(['root', '0', '0:0', 'root:root']).not.toContain(user);
    const entrypoint = runtimeStage.filter((i) => i.op === 'ENTRYPOINT').at(-1)?.args ?? '';
    expect(JSON.parse(entrypoint)).toEqual(['node', 'bin/rpa']);
  });

  test('.dockerignore keeps local state and artefacts out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim());
    expect(ignored).toEqual(
      expect.arrayContaining([
        'node_modules',
        '.data',
        '.tools',
        'dist',
        'coverage',
        'test-artifacts',
        '.git',
      ]),
    );
  });
});

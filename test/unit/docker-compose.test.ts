import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { TEMPORAL_DYNAMIC_CONFIG } from '../../cli/temporal-dev-server';
import { CONFIG_KEYS, parseConfig } from '../../core/config';
import {
  compose,
  composeDoc,
  composeText,
  dependsOn,
  durationSeconds,
  environment,
  healthTest,
  imageEnv,
  instructions,
  ROOT,
  read,
  record,
  runtimeStage,
  secretsOf,
  service,
  services,
  strings,
} from '../support/compose-file';

// No Docker engine (nor the compose plugin) runs where the tests run, so docker-compose.yml, the
// Dockerfile and the nginx config are checked statically: structure, references between services,
// and every app service's environment parsed by the real configuration schema. The file's validity
// against the Compose Specification is test/unit/compose-spec.test.ts; the observability profile's
// files are test/unit/observability-config.test.ts; the secrets test/unit/deploy-secrets.test.ts.

const STACK = [
  'temporal-db',
  'temporal-schema',
  'temporal',
  'temporal-namespace',
  'temporal-setup',
  'temporal-ui',
  'postgres',
  'redis',
  'migrate',
  'api',
  'control-worker',
  'module-worker',
  'nginx',
  'prometheus',
  'grafana',
];
const APP_SERVICES = ['migrate', 'temporal-setup', 'api', 'control-worker', 'module-worker'];
const LONG_RUNNING_APP_SERVICES = ['api', 'control-worker', 'module-worker'];
const WORKERS = ['control-worker', 'module-worker'];
/** Runs once and exits: `restart: "no"` and no healthcheck. */
const isOneShot = (name: string) => service(name).restart === 'no';

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

  test('defines every service of the production stack', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(STACK));
  });

  test('uses temporalio/server with Postgres persistence, not the deprecated auto-setup image', () => {
    const images = Object.values(services).map((spec) => String(record(spec, 'service').image));
    expect(images.filter((image) => image.startsWith('temporalio/auto-setup'))).toEqual([]);
    expect(String(service('temporal').image)).toMatch(/^temporalio\/server:\d+\.\d+\.\d+$/);
    const env = environment('temporal');
    expect(env.DB).toBe('postgres12');
    expect(env.POSTGRES_SEEDS).toBe('temporal-db');
    expect(env.POSTGRES_USER).toBe(environment('temporal-db').POSTGRES_USER);
    expect(env.POSTGRES_PWD).toBe(environment('temporal-db').POSTGRES_PASSWORD);
    expect(dependsOn('temporal').get('temporal-schema')).toBe('service_completed_successfully');
  });

  test('temporal-schema sets up both stores with the admin-tools of the same Temporal version', () => {
    const schema = service('temporal-schema');
    const serverVersion = String(service('temporal').image).split(':')[1];
    for (const name of ['temporal-schema', 'temporal-namespace']) {
      expect(String(service(name).image)).toMatch(/^temporalio\/admin-tools:/);
      expect(String(service(name).image).split(':')[1]?.split('-')[0]).toBe(serverVersion);
    }
    const env = environment('temporal-schema');
    expect(env).toMatchObject({
      POSTGRES_SEEDS: environment('temporal').POSTGRES_SEEDS,
      POSTGRES_USER: environment('temporal').POSTGRES_USER,
      POSTGRES_PWD: environment('temporal').POSTGRES_PWD,
      DBNAME: environment('temporal').DBNAME,
      VISIBILITY_DBNAME: environment('temporal').VISIBILITY_DBNAME,
    });
    const script = mountedScript('temporal-schema');
    for (const step of ['create', 'setup-schema -v 0.0', 'update-schema -d']) expect(script).toContain(step);
    expect(script).toMatch(/setup "\$DBNAME" temporal\n/);
    expect(script).toMatch(/setup "\$VISIBILITY_DBNAME" visibility\n/);
    expect(script).toContain('--plugin postgres12');
    expect(schema.restart).toBe('no');
  });

  test('the namespace keeps histories at least as long as the app keeps robot rows', () => {
    const env = environment('temporal-namespace');
    const hours = /^(\d+)h$/.exec(env.NAMESPACE_RETENTION ?? '')?.[1];
    expect(hours).toBeDefined();
    for (const name of LONG_RUNNING_APP_SERVICES) {
      // ROBOT_RETENTION_DAYS (robot rows, 30 days by default per issue 19) comes with the cleanup
      // of old robots; until that field exists the 30 days is the bound.
      const config: Record<string, unknown> = parseConfig({ ...imageEnv, ...environment(name) });
      const rowDays = Number(config.ROBOT_RETENTION_DAYS ?? 30);
      expect(Number(hours) / 24).toBeGreaterThan(rowDays);
    }
    const script = mountedScript('temporal-namespace');
    expect(script).toMatch(/temporal operator namespace create .*--retention "\$RETENTION"/);
    expect(env.TEMPORAL_NAMESPACE).toBe(parseConfig(environment('api')).TEMPORAL_NAMESPACE);
  });

  test('temporal-setup runs `rpa temporal setup` from the app image after the namespace and migrate', () => {
    expect(service('temporal-setup').command).toEqual(['temporal', 'setup']);
    expect(service('temporal-setup').image).toBe(service('api').image);
    expect(dependsOn('temporal-setup').get('temporal-namespace')).toBe('service_completed_successfully');
    // It reads the robot types' retention from the app database, which fails before migrations.
    expect(dependsOn('temporal-setup').get('migrate')).toBe('service_completed_successfully');
    expect(existsSync(path.join(ROOT, 'deploy/temporal-setup.sh'))).toBe(false);
  });

  test('the dynamic config holds every setting the dev server gets (cli/temporal-dev-server.ts)', () => {
    const dynamic = record(parseDocument(read('deploy/dynamicconfig.yaml')).toJS(), 'dynamicconfig');
    for (const setting of TEMPORAL_DYNAMIC_CONFIG) {
      const [key = '', value = ''] = setting.split('=');
      expect({ key, values: dynamic[key] }).toEqual({ key, values: [{ value: JSON.parse(value) }] });
    }
    const mount = strings(service('temporal').volumes, 'temporal.volumes').find((v) =>
      v.startsWith('./deploy/dynamicconfig.yaml:'),
    );
    expect(mount?.split(':')[1]).toBe(environment('temporal').DYNAMIC_CONFIG_FILE_PATH);
  });

  test('every long-running service has a health check; one-shots have none and are waited for', () => {
    const problems: string[] = [];
    const awaited = new Set(
      Object.keys(services).flatMap((name) =>
        [...dependsOn(name)].filter(([, c]) => c === 'service_completed_successfully').map(([t]) => t),
      ),
    );
    for (const name of Object.keys(services)) {
      const hasCheck = service(name).healthcheck !== undefined;
      if (isOneShot(name) && hasCheck) problems.push(`one-shot ${name} has a healthcheck`);
      if (isOneShot(name) && !awaited.has(name)) problems.push(`nobody waits for one-shot ${name}`);
      if (!isOneShot(name) && !hasCheck) problems.push(`${name} has no healthcheck`);
      if (!isOneShot(name) && service(name).restart !== 'unless-stopped') {
        problems.push(`${name} does not restart`);
      }
    }
    expect(problems).toEqual([]);
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
    ['temporal-setup', ['temporal', 'setup']],
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
      expect(config().TEMPORAL_NAMESPACE).toBe(environment('temporal-namespace').TEMPORAL_NAMESPACE);
    });

    test('runs in production mode with the prebuilt workflow bundle', () => {
      expect(config().WORKFLOW_BUNDLE_PATH).toBe('/app/dist/workflow-bundle.js');
      expect(config().NODE_ENV).toBe('production');
    });
  });

  test.each(LONG_RUNNING_APP_SERVICES)('%s shares the Redis status cache', (name) => {
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
    expect(replicas('control-worker')).toBeGreaterThanOrEqual(1);
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

  test('publishes nginx on 8080; the Temporal UI, Prometheus and Grafana on loopback only', () => {
    const published = Object.entries(services).flatMap(([name, spec]) =>
      (record(spec, name).ports === undefined ? [] : strings(record(spec, name).ports, `${name}.ports`)).map(
        (port) => {
          const parts = port.split(':');
          return {
            name,
            ip: parts.length === 3 ? parts[0] : 'all',
            host: parts.slice(-2, -1)[0],
            container: parts.at(-1),
          };
        },
      ),
    );
    expect(published).toEqual(
      expect.arrayContaining([
        { name: 'nginx', ip: 'all', host: '8080', container: '80' },
        // No login of its own and it can reset workflows: loopback only (ssh -L from elsewhere).
        { name: 'temporal-ui', ip: '127.0.0.1', host: '8233', container: '8080' },
        { name: 'prometheus', ip: '127.0.0.1', host: '9090', container: '9090' },
        { name: 'grafana', ip: '127.0.0.1', host: '3001', container: '3000' },
      ]),
    );
    // Only nginx faces the network; nothing else is published beyond this host.
    expect(published.filter((p) => p.ip !== '127.0.0.1').map((p) => p.name)).toEqual(['nginx']);
    const hosts = published.map((p) => p.host);
    expect(hosts).toEqual([...new Set(hosts)]);
    const uiUrl = new URL(parseConfig(environment('api')).TEMPORAL_UI_URL);
    expect([uiUrl.hostname, uiUrl.port]).toEqual(['127.0.0.1', '8233']);
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

  test('postgres, redis, temporal and api have the health checks their dependants wait for', () => {
    expect(healthTest('postgres')).toContain('pg_isready');
    expect(healthTest('temporal')).toContain(
      'temporal operator cluster health --address temporal:7233 | grep -q SERVING',
    );
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

  test.each(WORKERS)('%s serves metrics and /healthz on the port its healthcheck probes', (name) => {
    const config = parseConfig({ ...imageEnv, ...environment(name) });
    expect(config.WORKER_METRICS_PORT).toBeDefined();
    // Prometheus scrapes it from another container.
    expect(config.WORKER_METRICS_HOST).toBe('0.0.0.0');
    expect(healthTest(name)).toContain(`http://127.0.0.1:${config.WORKER_METRICS_PORT}/healthz`);
    expect(read('workers/metrics-server.ts')).toContain("req.url === '/healthz'");
    expect(config.TEMPORAL_METRICS_BIND).toMatch(/^0\.0\.0\.0:\d+$/);
  });

  // Docker sends SIGKILL after stop_grace_period: it must leave the app its whole drain.
  test('api and workers get a stop_grace_period above their own shutdown deadlines', () => {
    const api = parseConfig({ ...imageEnv, ...environment('api') });
    expect(durationSeconds(String(service('api').stop_grace_period))).toBeGreaterThan(
      api.API_SHUTDOWN_DELAY_SECONDS + api.API_SHUTDOWN_TIMEOUT_SECONDS,
    );
    for (const name of WORKERS) {
      const config = parseConfig({ ...imageEnv, ...environment(name) });
      expect(durationSeconds(String(service(name).stop_grace_period))).toBeGreaterThan(
        config.WORKER_SHUTDOWN_GRACE_SECONDS,
      );
    }
  });

  test('redis refuses writes when full instead of evicting state (noeviction, not allkeys-lru)', () => {
    const command = strings(service('redis').command, 'redis.command');
    const policy = command[command.indexOf('--maxmemory-policy') + 1];
    expect(policy).toBe('noeviction');
    expect(command).toContain('--maxmemory');
  });

  test.each(LONG_RUNNING_APP_SERVICES)(
    '%s has what `rpa api` / `rpa worker` require in production: Redis, a secrets key, a Temporal address',
    (name) => {
      // The secret files arrive as variables at start (deploy/docker-entrypoint.sh); here, a valid stand-in.
      const fromSecrets = Object.fromEntries(
        [...secretsOf(name).values()].map((target) => [
          target,
          target === 'SECRETS_KEYS' ? `k1:${Buffer.alloc(32, 1).toString('base64')}` : 'x'.repeat(32),
        ]),
      );
      const env = { ...imageEnv, ...environment(name), ...fromSecrets, SMTP_URL: 'smtp://relay:25' };
      expect(() => parseConfig(env, { needs: ['redis', 'secrets', 'temporal'] })).not.toThrow();
    },
  );

  test.each(LONG_RUNNING_APP_SERVICES)(
    '%s gets SECRETS_KEYS, METRICS_TOKEN and SMTP_URL as secrets named after their variables',
    (name) => {
      const secrets = secretsOf(name);
      expect([...secrets.keys()].sort()).toEqual(['METRICS_TOKEN', 'SECRETS_KEYS', 'SMTP_URL']);
      for (const [source, target] of secrets) {
        expect(target).toBe(source);
        expect(CONFIG_KEYS).toContain(target);
        // A variable set in the compose file would win over the secret (deploy/docker-entrypoint.sh).
        expect(Object.keys(environment(name))).not.toContain(target);
      }
    },
  );

  test('every secret a service uses is declared, from a git-ignored file under deploy/secrets/', () => {
    const declared = record(compose.secrets ?? {}, 'secrets');
    const problems: string[] = [];
    for (const name of Object.keys(services)) {
      for (const source of secretsOf(name).keys()) {
        if (!(source in declared)) problems.push(`${name}: secret ${source} is not declared`);
      }
    }
    for (const [name, spec] of Object.entries(declared)) {
      const file = String(record(spec, `secrets.${name}`).file);
      if (file !== `./deploy/secrets/${name}`) problems.push(`secret ${name}: file ${file}`);
    }
    expect(problems).toEqual([]);
    expect(read('.gitignore').split('\n')).toContain('deploy/secrets/');
    expect(read('.dockerignore').split('\n')).toContain('deploy/secrets');
  });

  test('profiles: the observability services are optional and nothing else depends on them', () => {
    const profiled = Object.keys(services).filter((name) => service(name).profiles !== undefined);
    expect(profiled.sort()).toEqual(['grafana', 'prometheus']);
    for (const name of profiled) expect(service(name).profiles).toEqual(['observability']);
    for (const name of Object.keys(services).filter((n) => !profiled.includes(n))) {
      expect({ name, deps: [...dependsOn(name).keys()].filter((t) => profiled.includes(t)) }).toEqual({
        name,
        deps: [],
      });
    }
  });

  test('every network a service joins is declared (or the default one)', () => {
    const declared = new Set(['default', ...Object.keys(record(compose.networks ?? {}, 'networks'))]);
    const used = Object.entries(services).flatMap(([name, spec]) => {
      const networks = record(spec, name).networks;
      if (networks === undefined) return [];
      return Array.isArray(networks) ? strings(networks, name) : Object.keys(record(networks, name));
    });
    expect(used.filter((network) => !declared.has(network))).toEqual([]);
  });
});

/** The script a one-shot admin-tools service mounts and runs as its entrypoint. */
function mountedScript(name: string): string {
  const mount = strings(service(name).volumes, `${name}.volumes`)[0] ?? '';
  const [source, target] = mount.split(':');
  expect(strings(service(name).entrypoint, `${name}.entrypoint`)).toContain(target);
  return read(source ?? '');
}

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
    // Set once in the server block, so both locations inherit them (a location that set any
    // proxy_set_header of its own would drop all of these).
    const locations = [...conf.matchAll(/location\s+[^{]*\{([^}]*)\}/g)].map((m) => m[1] ?? '');
    expect(locations.filter((body) => body.includes('proxy_set_header'))).toEqual([]);
  });

  test('the API trusts the proxy hop nginx is on (TRUST_PROXY)', () => {
    expect(parseConfig(environment('api')).TRUST_PROXY).toBeDefined();
    expect(environment('api').TRUST_PROXY).toContain('uniquelocal');
  });

  test('accepts bodies of the largest document the API takes (client_max_body_size)', () => {
    const limit = /client_max_body_size\s+(\d+)([kmg]?);/i.exec(conf);
    const unit: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
    const bytes = Number(limit?.[1]) * (unit[(limit?.[2] ?? '').toLowerCase()] ?? Number.NaN);
    const documentMax = parseConfig({ ...imageEnv, ...environment('api') }).DOCUMENT_MAX_BYTES;
    // Room for the multipart framing around the file.
    expect(bytes).toBeGreaterThan(documentMax);
  });

  test('streams robot events unbuffered, with a read timeout far above the keep-alive interval', () => {
    const events = /location\s+~\s+(\S+)\s*\{([^}]*)\}/.exec(conf);
    const pattern = new RegExp(events?.[1] ?? '(?!)');
    expect(pattern.test('/v1/robots/0b8f5f0e-1d0c-4c6f-9f6e-4d7a3c9b1a2e/events')).toBe(true);
    expect(pattern.test('/v1/robots/abc')).toBe(false);
    expect(pattern.test('/v1/robots/abc/events/x')).toBe(false);
    const body = events?.[2] ?? '';
    expect(body).toMatch(/proxy_buffering\s+off;/);
    expect(body).toMatch(/proxy_pass\s+http:\/\/rpa_api;/);
    const timeout = /proxy_read_timeout\s+(\w+);/.exec(body)?.[1] ?? '0s';
    // api/robot-stream.ts writes a keep-alive comment every 15 s.
    expect(durationSeconds(timeout)).toBeGreaterThanOrEqual(300);
    expect(read('api/robot-stream.ts')).toContain("'x-accel-buffering': 'no'");
  });
});

describe('Dockerfile', () => {
  test('builds every stage on one pinned Node LTS image (22 or 24) that package.json engines allows', () => {
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
    const images = new Set(bases.filter((base) => !stages.has(base)));
    expect(images.size).toBe(1);
    const [image = ''] = [...images];
    const version = /^node:((22|24)\.\d+\.\d+)-bookworm-slim$/.exec(image)?.[1];
    expect({ image, pinnedLts: version !== undefined }).toEqual({ image, pinnedLts: true });
    const engines = JSON.parse(read('package.json')).engines.node as string;
    const minimum = /^>=\s*(\d+)\.(\d+)/.exec(engines);
    expect(minimum).not.toBeNull();
    const [major = 0, minor = 0] = (version ?? '').split('.').map(Number);
    expect(major * 1000 + minor).toBeGreaterThanOrEqual(Number(minimum?.[1]) * 1000 + Number(minimum?.[2]));
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

  test('runs the rpa CLI as a non-root user, through the secrets entrypoint', () => {
    const user = runtimeStage.filter((i) => i.op === 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(['root', '0', '0:0', 'root:root']).not.toContain(user);
    const entrypoint = runtimeStage.filter((i) => i.op === 'ENTRYPOINT').at(-1)?.args ?? '';
    expect(JSON.parse(entrypoint)).toEqual([
      '/bin/sh',
      '/app/deploy/docker-entrypoint.sh',
      'node',
      'bin/rpa',
    ]);
    expect(read('deploy/docker-entrypoint.sh')).toMatch(/\nexec "\$@"\n$/);
  });

  test('bakes in the OCR model (an npm runtime dependency) and poppler, and checks the model at build', () => {
    const pkg = JSON.parse(read('package.json'));
    expect(pkg.dependencies['@tesseract.js-data/eng']).toBeDefined();
    expect(read('activities/ocr-pool.ts')).toContain(
      "require.resolve('@tesseract.js-data/eng/package.json')",
    );
    expect(
      existsSync(path.join(ROOT, 'node_modules/@tesseract.js-data/eng/4.0.0_best_int/eng.traineddata.gz')),
    ).toBe(true);
    const runs = runtimeStage.filter((i) => i.op === 'RUN').map((i) => i.args);
    expect(
      runs.some((run) => run.includes('@tesseract.js-data/eng') && run.includes('eng.traineddata.gz')),
    ).toBe(true);
    expect(runs.some((run) => /apt-get install .*poppler-utils/.test(run))).toBe(true);
    // Production dependencies (the model included) come from the prod-deps stage.
    expect(
      runtimeStage.some((i) => i.op === 'COPY' && /--from=prod-deps \/app\/node_modules/.test(i.args)),
    ).toBe(true);
  });

  test('builds the native OCR binding in the build stage and ships only the binding and its library', () => {
    const buildStage = instructions.slice(
      instructions.findIndex((i) => i.op === 'FROM' && /\bAS build$/i.test(i.args)),
      instructions.findIndex((i) => i.op === 'FROM' && /\bAS prod-deps$/i.test(i.args)),
    );
    const buildRuns = buildStage.filter((i) => i.op === 'RUN').map((i) => i.args);
    expect(buildRuns.some((run) => /libtesseract-dev/.test(run) && /\bg\+\+/.test(run))).toBe(true);
    expect(buildRuns.some((run) => run.includes('node scripts/build-native-ocr.js'))).toBe(true);
    const runtimeRuns = runtimeStage.filter((i) => i.op === 'RUN').map((i) => i.args);
    expect(runtimeRuns.some((run) => /libtesseract-dev|\bg\+\+/.test(run))).toBe(false);
    expect(runtimeRuns.some((run) => /apt-get install .*libtesseract5/.test(run))).toBe(true);
    expect(
      runtimeStage.some((i) => i.op === 'COPY' && i.args === '--from=build /app/native/build ./native/build'),
    ).toBe(true);
    expect(read('scripts/build-native-ocr.js')).toContain("path.join(outDir, 'tesseract-binding.node')");
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
        'native/build',
        'deploy/secrets',
      ]),
    );
  });
});

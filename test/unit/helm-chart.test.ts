import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { CONFIG_KEYS, parseConfig } from '../../core/config';

// The Helm chart (deploy/helm/rpa-orchestrator) through the real tools: `helm lint`, `helm template`
// and kubeconform against the Kubernetes schemas vendored in deploy/helm/schemas (offline: no schema
// is downloaded). helm and kubeconform are built by scripts/install-helm-tools.sh, which `npm test`
// runs first (scripts/ensure-deps.js); a missing tool fails this file with that script's name.

const ROOT = path.resolve(__dirname, '..', '..');
const CHART = path.join(ROOT, 'deploy', 'helm', 'rpa-orchestrator');
const FULL_VALUES = path.join(CHART, 'ci', 'full-values.yaml');
// The defaults plus only what the chart requires (it refuses to render the bare defaults).
const REQUIRED_VALUES = path.join(CHART, 'ci', 'required-values.yaml');
const SCHEMAS = path.join(ROOT, 'deploy', 'helm', 'schemas');
const KUBERNETES_VERSION = '1.32.2';
const RELEASE = 'rpa';
const run = promisify(execFile);

function tool(name: string): string {
  const local = path.join(ROOT, '.tools', 'bin', name);
  if (existsSync(local)) return local;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, name))) return path.join(dir, name);
  }
  throw new Error(
    `${name} is not installed: run \`bash scripts/install-helm-tools.sh\` (npm test runs it; it builds ${name} with go install)`,
  );
}

type Json = Record<string, unknown>;
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Json;
  data?: Record<string, string>;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
}
interface Probe {
  httpGet?: { path: string; port: string | number };
  tcpSocket?: { port: string | number };
}
interface Container {
  name: string;
  args?: string[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string } }[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string> };
  securityContext?: Json;
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  containers: Container[];
  terminationGracePeriodSeconds?: number;
  securityContext?: Json;
  volumes?: ({ name: string } & Json)[];
  automountServiceAccountToken?: boolean;
}
interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: PodSpec;
}

async function helm(args: string[]): Promise<string> {
  const { stdout } = await run(tool('helm'), args, { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/** `helm template` → its manifests (it throws, with Helm's stderr, when Helm refuses the values). */
async function render(extraArgs: string[] = []): Promise<Manifest[]> {
  const text = await helm([
    'template',
    RELEASE,
    CHART,
    '--namespace',
    'rpa',
    '--kube-version',
    KUBERNETES_VERSION,
    ...extraArgs,
  ]);
  return parseAllDocuments(text)
    .map((doc) => {
      expect(doc.errors).toEqual([]);
      return doc.toJS() as Manifest | null;
    })
    .filter((doc): doc is Manifest => doc !== null);
}

/** Helm's stderr for values it must refuse; rendering them is a failure. */
async function renderError(extraArgs: string[]): Promise<string> {
  try {
    await render(extraArgs);
  } catch (err) {
    return String((err as { stderr?: string }).stderr ?? err);
  }
  throw new Error(`helm template ${extraArgs.join(' ')} rendered, but should have refused`);
}

interface KubeconformResult {
  resources: { filename: string; kind: string; name: string; status: string; msg: string }[];
  summary: { valid: number; invalid: number; errors: number; skipped: number };
}

/** kubeconform -strict on YAML text, with only the vendored schemas (no network). */
async function kubeconform(yamlText: string): Promise<KubeconformResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'rpa-helm-'));
  try {
    const file = path.join(dir, 'manifests.yaml');
    writeFileSync(file, yamlText);
    const args = [
      '-strict',
      '-summary',
      '-verbose',
      '-output',
      'json',
      '-kubernetes-version',
      KUBERNETES_VERSION,
      '-cache',
      dir,
      '-schema-location',
      `${SCHEMAS}/{{.NormalizedKubernetesVersion}}-standalone{{.StrictSuffix}}/{{.ResourceKind}}{{.KindSuffix}}.json`,
      '-schema-location',
      `${SCHEMAS}/crds/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json`,
      file,
    ];
    // kubeconform exits 1 when a resource is invalid; its JSON report says which and why.
    const { stdout } = await run(tool('kubeconform'), args).catch(
      (err: { stdout?: string; stderr?: string }) => {
        if (err.stdout?.trim().startsWith('{')) return { stdout: err.stdout };
        throw new Error(`kubeconform failed: ${err.stderr ?? String(err)}`);
      },
    );
    return JSON.parse(stdout) as KubeconformResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const toYamlStream = (manifests: Manifest[]) => manifests.map((m) => JSON.stringify(m)).join('\n---\n');
const ofKind = (manifests: Manifest[], kind: string) => manifests.filter((m) => m.kind === kind);

function named(manifests: Manifest[], kind: string, name: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found)
    throw new Error(`no ${kind} ${name} among ${manifests.map((m) => `${m.kind}/${m.metadata.name}`)}`);
  return found;
}

const podTemplate = (workload: Manifest) => (workload.spec as { template: PodTemplate }).template;
const workloads = (manifests: Manifest[]) =>
  manifests.filter((m) => m.kind === 'Deployment' || m.kind === 'Job');

function envValue(container: Container, name: string): string | undefined {
  return container.env?.find((e) => e.name === name)?.value;
}

/** What a container's process sees: its ConfigMap, then its env; secret refs filled from `secrets`. */
function containerEnvironment(
  manifests: Manifest[],
  container: Container,
  secrets: Record<string, string>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const configMap = source.configMapRef && named(manifests, 'ConfigMap', source.configMapRef.name);
    Object.assign(env, configMap?.data ?? {});
  }
  for (const entry of container.env ?? []) {
    const ref = entry.valueFrom?.secretKeyRef;
    const value = ref ? secrets[ref.key] : entry.value;
    if (value !== undefined) env[entry.name] = value;
  }
  return env;
}

function secretsOf(file: string): Record<string, string> {
  const values = parseAllDocuments(readFileSync(file, 'utf8'))[0]?.toJS() as
    | { secrets: Record<string, string> }
    | undefined;
  if (!values) throw new Error(`${file} holds no values`);
  return values.secrets;
}
const FULL_SECRETS = secretsOf(FULL_VALUES);
const REQUIRED_SECRETS = secretsOf(REQUIRED_VALUES);

let defaults: Manifest[];
let full: Manifest[];

beforeAll(async () => {
  [defaults, full] = await Promise.all([
    render(['--values', REQUIRED_VALUES]),
    render(['--values', FULL_VALUES]),
  ]);
}, 60_000);

describe('helm lint', () => {
  test.each([
    // Helm's lint mode logs a template's `fail` instead of failing: the bare defaults lint clean,
    // though `helm template` and `helm install` refuse them (below).
    ['default values', []],
    ['ci/full-values.yaml', ['--values', FULL_VALUES]],
  ])('is clean with %s (--strict)', async (_name, extra) => {
    const out = await helm(['lint', CHART, '--strict', '--kube-version', KUBERNETES_VERSION, ...extra]);
    expect(out).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(out).not.toMatch(/\[(WARNING|ERROR)\]/);
  });
});

describe('kubeconform -strict with the vendored schemas', () => {
  test.each([
    ['default values', () => defaults],
    ['ci/full-values.yaml', () => full],
  ])('every manifest rendered with %s is valid', async (_name, manifests) => {
    const report = await kubeconform(toYamlStream(manifests()));
    const problems = report.resources.filter((r) => r.status !== 'statusValid');
    expect(problems).toEqual([]);
    expect(report.summary).toEqual({ valid: manifests().length, invalid: 0, errors: 0, skipped: 0 });
  });

  test('the full values render every kind the schemas cover, the ServiceMonitor included', () => {
    expect(new Set(full.map((m) => m.kind))).toEqual(
      new Set([
        'ConfigMap',
        'Secret',
        'Service',
        'Deployment',
        'HorizontalPodAutoscaler',
        'PodDisruptionBudget',
        'Job',
        'ServiceMonitor',
      ]),
    );
  });

  // The schemas are strict and really consulted: a misspelt field, a wrong type, and a kind with no
  // vendored schema are each reported (so the valid runs above prove something).
  test('rejects a misspelt field, a wrong type, and a kind it has no schema for', async () => {
    const deployment = structuredClone(named(defaults, 'Deployment', `${RELEASE}-rpa-orchestrator-api`));
    const container = podTemplate(deployment).spec.containers[0] as Container & Json;
    container.readinesProbe = container.readinessProbe;
    const service = structuredClone(named(defaults, 'Service', `${RELEASE}-rpa-orchestrator-api`));
    (service.spec as { ports: Json[] }).ports[0] = { name: 'http', port: 'eighty' };
    const unknown = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'x' } };
    const report = await kubeconform(
      [JSON.stringify(deployment), JSON.stringify(service), JSON.stringify(unknown)].join('\n---\n'),
    );
    expect(report.summary).toEqual({ valid: 0, invalid: 2, errors: 1, skipped: 0 });
    const messages = report.resources.map((r) => `${r.kind}: ${r.msg}`).join('\n');
    expect(messages).toMatch(/Deployment: .*readinesProbe/);
    expect(messages).toMatch(/Service: .*ports\/0\/port/);
    expect(messages).toMatch(/Ingress: could not find schema/);
  });
});

describe('both renders', () => {
  test.each([
    ['default values', () => defaults],
    ['ci/full-values.yaml', () => full],
  ])(
    'with %s, every container has probes, resource requests, and runs non-root on a read-only root',
    (_name, manifests) => {
      for (const workload of workloads(manifests())) {
        const spec = podTemplate(workload).spec;
        expect({ workload: workload.metadata.name, pod: spec.securityContext }).toMatchObject({
          pod: { runAsNonRoot: true, runAsUser: 1000 },
        });
        expect(spec.automountServiceAccountToken).toBe(false);
        for (const container of spec.containers) {
          const where = `${workload.metadata.name}/${container.name}`;
          if (workload.kind === 'Deployment') {
            expect({
              where,
              live: Boolean(container.livenessProbe),
              ready: Boolean(container.readinessProbe),
            }).toEqual({
              where,
              live: true,
              ready: true,
            });
          }
          expect({ where, requests: Object.keys(container.resources?.requests ?? {}).sort() }).toEqual({
            where,
            requests: ['cpu', 'memory'],
          });
          expect({ where, securityContext: container.securityContext }).toMatchObject({
            securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
          });
          // With a read-only root, /tmp must be writable (tsx's compile cache, PDF rendering).
          expect(container.volumeMounts?.map((m) => m.mountPath)).toContain('/tmp');
        }
      }
    },
  );

  // parseConfig drops names its schema does not declare: a misspelt name would silently be ignored.
  test.each([
    ['default values', () => defaults],
    ['ci/full-values.yaml', () => full],
  ])('with %s, every variable set anywhere is one core/config.ts knows', (_name, manifests) => {
    const known = new Set<string>(CONFIG_KEYS);
    const names = new Set<string>();
    for (const configMap of ofKind(manifests(), 'ConfigMap'))
      for (const key of Object.keys(configMap.data ?? {})) names.add(key);
    for (const secret of ofKind(manifests(), 'Secret'))
      for (const key of Object.keys(secret.data ?? {})) names.add(key);
    for (const workload of workloads(manifests())) {
      for (const container of podTemplate(workload).spec.containers) {
        for (const entry of container.env ?? []) {
          names.add(entry.name);
          const key = entry.valueFrom?.secretKeyRef?.key;
          if (key) names.add(key);
        }
      }
    }
    expect(names.size).toBeGreaterThan(15);
    expect([...names].filter((name) => !known.has(name))).toEqual([]);
  });
});

describe('rendered with the default values', () => {
  const prefix = `${RELEASE}-rpa-orchestrator`;

  test('an api Deployment, Service and PDB, the control worker, one module Deployment, migrate and temporal-setup Jobs', () => {
    expect(defaults.map((m) => `${m.kind}/${m.metadata.name}`).sort()).toEqual(
      [
        `ConfigMap/${prefix}`,
        `Secret/${prefix}`,
        `Secret/${prefix}-migrate`,
        `Service/${prefix}-api`,
        `Service/${prefix}-worker-metrics`,
        `Deployment/${prefix}-api`,
        `PodDisruptionBudget/${prefix}-api`,
        `Deployment/${prefix}-control-worker`,
        `Deployment/${prefix}-module-default`,
        `Job/${prefix}-migrate`,
        `Job/${prefix}-temporal-setup`,
      ].sort(),
    );
  });

  test('probe ports name ports the container declares', () => {
    for (const workload of ofKind(defaults, 'Deployment')) {
      for (const container of podTemplate(workload).spec.containers) {
        const ports = new Set(container.ports?.map((p) => p.name));
        for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
          const port = probe?.httpGet?.port ?? probe?.tcpSocket?.port;
          expect({ where: container.name, port, known: ports.has(String(port)) }).toEqual({
            where: container.name,
            port,
            known: true,
          });
        }
      }
    }
  });

  test('the API is probed on /health/live and /health/ready, on all interfaces', () => {
    const api = podTemplate(named(defaults, 'Deployment', `${prefix}-api`)).spec.containers[0] as Container;
    expect(api.args).toEqual(['api']);
    expect(api.livenessProbe?.httpGet?.path).toBe('/health/live');
    expect(api.startupProbe?.httpGet?.path).toBe('/health/live');
    expect(api.readinessProbe?.httpGet?.path).toBe('/health/ready');
    expect(envValue(api, 'HOST')).toBe('0.0.0.0');
    expect(api.ports?.find((p) => p.name === 'http')?.containerPort).toBe(Number(envValue(api, 'PORT')));
  });

  test('workers are probed on /healthz of their metrics port, which listens on all interfaces', () => {
    // workers/metrics-server.ts answers /healthz without the token that guards /metrics.
    expect(readFileSync(path.join(ROOT, 'workers', 'metrics-server.ts'), 'utf8')).toContain(
      "req.url === '/healthz'",
    );
    for (const name of [`${prefix}-control-worker`, `${prefix}-module-default`]) {
      const container = podTemplate(named(defaults, 'Deployment', name)).spec.containers[0] as Container;
      for (const probe of [container.startupProbe, container.livenessProbe, container.readinessProbe]) {
        expect(probe).toEqual(expect.objectContaining({ httpGet: { path: '/healthz', port: 'metrics' } }));
      }
      expect(envValue(container, 'WORKER_METRICS_HOST')).toBe('0.0.0.0');
      expect(Number(envValue(container, 'WORKER_METRICS_PORT'))).toBe(
        container.ports?.find((p) => p.name === 'metrics')?.containerPort,
      );
    }
  });

  test('pods outlive a graceful stop: grace periods above the API and worker shutdown times', () => {
    const apiPod = podTemplate(named(defaults, 'Deployment', `${prefix}-api`)).spec;
    const apiConfig = parseConfig(
      containerEnvironment(defaults, apiPod.containers[0] as Container, {
        DATABASE_URL: 'postgres://app@db/rpa',
      }),
    );
    expect(apiConfig.API_SHUTDOWN_TIMEOUT_SECONDS).toBe(25);
    expect(apiPod.terminationGracePeriodSeconds).toBeGreaterThan(
      apiConfig.API_SHUTDOWN_DELAY_SECONDS + apiConfig.API_SHUTDOWN_TIMEOUT_SECONDS,
    );
    for (const name of [`${prefix}-control-worker`, `${prefix}-module-default`]) {
      const pod = podTemplate(named(defaults, 'Deployment', name)).spec;
      const config = parseConfig(
        containerEnvironment(defaults, pod.containers[0] as Container, {
          DATABASE_URL: 'postgres://app@db/rpa',
        }),
      );
      expect(config.WORKER_SHUTDOWN_GRACE_SECONDS).toBe(30);
      // The SDK's shutdownForceTime is the grace + 10 s (ADR 0054).
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(config.WORKER_SHUTDOWN_GRACE_SECONDS + 10);
    }
  });

  test('the Secret holds the values given and no empty ones, and every pod requires DATABASE_URL from it', () => {
    const data = named(defaults, 'Secret', prefix).data ?? {};
    expect(Object.keys(data).sort()).toEqual(['DATABASE_URL', 'REDIS_URL', 'SECRETS_KEYS']);
    expect(Buffer.from(data.SECRETS_KEYS ?? '', 'base64').toString()).toBe(REQUIRED_SECRETS.SECRETS_KEYS);
    for (const workload of workloads(defaults)) {
      for (const container of podTemplate(workload).spec.containers) {
        const ref = container.env?.find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef;
        expect({ where: container.name, ref }).toEqual({
          where: container.name,
          ref: {
            name: workload.metadata.name === `${prefix}-migrate` ? `${prefix}-migrate` : prefix,
            key: 'DATABASE_URL',
          },
        });
      }
    }
  });
});

describe('rendered with ci/full-values.yaml', () => {
  const prefix = `${RELEASE}-rpa-orchestrator`;

  test('each process environment is accepted by parseConfig, with the values given', () => {
    for (const workload of workloads(full)) {
      for (const container of podTemplate(workload).spec.containers) {
        const env = containerEnvironment(full, container, FULL_SECRETS);
        const config = parseConfig(env);
        expect(config.NODE_ENV).toBe('production');
        expect(config.DATABASE_URL).toBe(FULL_SECRETS.DATABASE_URL);
        if (workload.metadata.name === `${prefix}-migrate`) {
          expect(config.DATABASE_MIGRATION_URL).toBe(FULL_SECRETS.DATABASE_MIGRATION_URL);
          continue;
        }
        // What `rpa api` and `rpa worker` require in production besides the database.
        expect(() => parseConfig(env, { needs: ['redis', 'secrets', 'temporal'] })).not.toThrow();
        expect(config.TEMPORAL_ADDRESS).toBe('rpa.a1b2c.tmprl.cloud:7233');
        expect(config.TEMPORAL_TLS).toBe(true);
        expect(config.TEMPORAL_TLS_CERT_PATH).toBe('/etc/rpa/temporal-tls/tls.crt');
        expect(config.TEMPORAL_TLS_CA_PATH).toBe('/etc/rpa/temporal-tls/ca.crt');
        expect(config.SECRETS_KEYS).toBe(FULL_SECRETS.SECRETS_KEYS);
        expect(config.DOCUMENTS_DIR).toBe('/data/documents');
        expect(container.volumeMounts).toEqual(
          expect.arrayContaining([
            { name: 'documents', mountPath: '/data/documents' },
            { name: 'temporal-tls', mountPath: '/etc/rpa/temporal-tls', readOnly: true },
          ]),
        );
        const volumes = podTemplate(workload).spec.volumes ?? [];
        expect(volumes).toEqual(
          expect.arrayContaining([
            { name: 'documents', persistentVolumeClaim: { claimName: 'rpa-documents' } },
            { name: 'temporal-tls', secret: { secretName: 'temporal-client-tls' } },
          ]),
        );
      }
    }
  });

  test('one Deployment per module, running `rpa worker --module` with its capacity and robot types', () => {
    const modules = ofKind(full, 'Deployment').filter((d) => d.metadata.name.startsWith(`${prefix}-module-`));
    expect(
      modules.map((d) => ({
        name: d.metadata.name,
        replicas: (d.spec as { replicas: number }).replicas,
        args: podTemplate(d).spec.containers[0]?.args,
        ocrEngine: envValue(podTemplate(d).spec.containers[0] as Container, 'OCR_ENGINE'),
      })),
    ).toEqual([
      {
        name: `${prefix}-module-ocr`,
        replicas: 3,
        args: ['worker', '--module', 'ocr', '--capacity', '4', '--types', 'invoice-intake,receipt-intake'],
        ocrEngine: 'tesseractjs',
      },
      {
        name: `${prefix}-module-http`,
        replicas: 2,
        args: ['worker', '--module', 'http', '--capacity', '20'],
        ocrEngine: undefined,
      },
    ]);
    const selectors = modules.map(
      (d) => (d.spec as { selector: { matchLabels: Json } }).selector.matchLabels,
    );
    expect(new Set(selectors.map((s) => JSON.stringify(s))).size).toBe(modules.length);
  });

  test('the HPA scales the api Deployment, which then leaves its replica count to it', () => {
    const hpa = named(full, 'HorizontalPodAutoscaler', `${prefix}-api`).spec as Json;
    expect(hpa).toMatchObject({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: `${prefix}-api` },
      minReplicas: 3,
      maxReplicas: 12,
    });
    expect(named(full, 'Deployment', `${prefix}-api`).spec).not.toHaveProperty('replicas');
  });

  test('the PDB and the Services select the pods they are meant for', () => {
    const podsMatching = (selector: Record<string, string>) =>
      ofKind(full, 'Deployment')
        .filter((d) =>
          Object.entries(selector).every(([key, value]) => podTemplate(d).metadata.labels[key] === value),
        )
        .map((d) => d.metadata.name)
        .sort();
    const pdb = named(full, 'PodDisruptionBudget', `${prefix}-api`).spec as {
      minAvailable: number;
      selector: { matchLabels: Record<string, string> };
    };
    expect(pdb.minAvailable).toBe(2);
    expect(podsMatching(pdb.selector.matchLabels)).toEqual([`${prefix}-api`]);
    const selectorOf = (name: string) =>
      (named(full, 'Service', name).spec as { selector: Record<string, string> }).selector;
    expect(podsMatching(selectorOf(`${prefix}-api`))).toEqual([`${prefix}-api`]);
    expect(podsMatching(selectorOf(`${prefix}-worker-metrics`))).toEqual(
      [`${prefix}-control-worker`, `${prefix}-module-http`, `${prefix}-module-ocr`].sort(),
    );
  });

  test('the ServiceMonitor scrapes the API and worker ports with METRICS_TOKEN', () => {
    const monitor = named(full, 'ServiceMonitor', prefix);
    expect(monitor.metadata.labels?.release).toBe('prometheus');
    const spec = monitor.spec as {
      selector: { matchLabels: Record<string, string> };
      endpoints: { port: string; path: string; authorization?: Json }[];
    };
    const selected = ofKind(full, 'Service').filter((s) =>
      Object.entries(spec.selector.matchLabels).every(([k, v]) => s.metadata.labels?.[k] === v),
    );
    const servicePorts = new Set(
      selected.flatMap((s) => (s.spec as { ports: { name: string }[] }).ports.map((p) => p.name)),
    );
    expect(spec.endpoints.map((e) => e.port).sort()).toEqual(['http', 'metrics', 'sdk-metrics']);
    for (const endpoint of spec.endpoints) expect(servicePorts.has(endpoint.port)).toBe(true);
    for (const endpoint of spec.endpoints.filter((e) => e.port !== 'sdk-metrics')) {
      expect(endpoint.authorization).toEqual({
        type: 'Bearer',
        credentials: { name: prefix, key: 'METRICS_TOKEN' },
      });
    }
    const secret = named(full, 'Secret', prefix).data ?? {};
    expect(Buffer.from(secret.METRICS_TOKEN ?? '', 'base64').toString()).toBe(FULL_SECRETS.METRICS_TOKEN);
  });

  test('migrate is a pre-install/pre-upgrade hook that reads only what exists before install', () => {
    const job = named(full, 'Job', `${prefix}-migrate`);
    expect(job.metadata.annotations).toMatchObject({
      'helm.sh/hook': 'pre-install,pre-upgrade',
      'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded',
    });
    const pod = podTemplate(job).spec;
    const container = pod.containers[0] as Container;
    expect(container.args).toEqual(['migrate']);
    expect(container.envFrom).toBeUndefined();
    // Every Secret the Job reads is itself a hook, created before it (lower weight).
    const refs = new Set(container.env?.flatMap((e) => e.valueFrom?.secretKeyRef?.name ?? []));
    expect([...refs]).toEqual([`${prefix}-migrate`]);
    const hookSecret = named(full, 'Secret', `${prefix}-migrate`);
    expect(hookSecret.metadata.annotations?.['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    expect(Number(hookSecret.metadata.annotations?.['helm.sh/hook-weight'])).toBeLessThan(
      Number(job.metadata.annotations?.['helm.sh/hook-weight']),
    );
    expect(Object.keys(hookSecret.data ?? {}).sort()).toEqual(['DATABASE_MIGRATION_URL', 'DATABASE_URL']);
    // The app's own Secret never holds the owner's credentials.
    expect(named(full, 'Secret', prefix).data).not.toHaveProperty('DATABASE_MIGRATION_URL');
  });

  test("temporal setup is a post-install/post-upgrade hook with the release's connection, TLS files included", async () => {
    const job = named(full, 'Job', `${prefix}-temporal-setup`);
    expect(job.metadata.annotations).toMatchObject({
      // After the release's ConfigMap and Secret exist: it reads them, as the workers do.
      'helm.sh/hook': 'post-install,post-upgrade',
      'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded',
    });
    const pod = podTemplate(job).spec;
    const container = pod.containers[0] as Container;
    expect(container.args).toEqual(['temporal', 'setup']);
    expect(container.envFrom).toEqual([{ configMapRef: { name: prefix } }]);
    const config = parseConfig(containerEnvironment(full, container, FULL_SECRETS));
    expect(config.TEMPORAL_ADDRESS).toBe('rpa.a1b2c.tmprl.cloud:7233');
    expect(config.TEMPORAL_TLS_CERT_PATH).toBe('/etc/rpa/temporal-tls/tls.crt');
    expect(container.volumeMounts).toEqual(
      expect.arrayContaining([{ name: 'temporal-tls', mountPath: '/etc/rpa/temporal-tls', readOnly: true }]),
    );
    // Where the credentials may not change the namespace, it is turned off.
    const without = await render(['--values', FULL_VALUES, '--set', 'temporalSetup.enabled=false']);
    expect(ofKind(without, 'Job').map((j) => j.metadata.name)).toEqual([`${prefix}-migrate`]);
  });

  test('with secrets.existingSecret no Secret is rendered and every secret variable reads that one', async () => {
    const manifests = await render([
      '--values',
      FULL_VALUES,
      '--set',
      'secrets.existingSecret=rpa-credentials',
    ]);
    expect(ofKind(manifests, 'Secret')).toEqual([]);
    for (const workload of workloads(manifests)) {
      for (const container of podTemplate(workload).spec.containers) {
        const refs = (container.env ?? []).flatMap((e) => e.valueFrom?.secretKeyRef ?? []);
        expect(refs.length).toBeGreaterThan(1);
        for (const ref of refs) {
          expect(ref.name).toBe('rpa-credentials');
          expect({ key: ref.key, optional: ref.optional ?? false }).toEqual({
            key: ref.key,
            optional: ref.key !== 'DATABASE_URL',
          });
        }
      }
    }
    const report = await kubeconform(toYamlStream(manifests));
    expect(report.summary).toMatchObject({ valid: manifests.length, invalid: 0, errors: 0 });
  });
});

describe('values the chart refuses, with a message', () => {
  test.each([
    [
      'an api grace period not above the shutdown delay + timeout',
      ['--set', 'api.terminationGracePeriodSeconds=30'],
      /api\.terminationGracePeriodSeconds \(30\) must exceed api\.shutdownDelaySeconds \+ api\.shutdownTimeoutSeconds \(30\)/,
    ],
    [
      'a worker grace period not above the step grace + 10 s',
      ['--set', 'workers.shutdownGraceSeconds=60'],
      /workers\.terminationGracePeriodSeconds \(60\) must exceed workers\.shutdownGraceSeconds \+ 10 \(70\)/,
    ],
    [
      'a module name the CLI would refuse',
      ['--set', 'modules[0].name=OCR_Pool'],
      /modules: name "OCR_Pool" must be lowercase letters, digits and dashes/,
    ],
    [
      'a misspelt top-level key (values.schema.json)',
      ['--set', 'module[0].name=ocr'],
      /additional properties 'module' not allowed/,
    ],
    [
      'a module capacity below 1 (values.schema.json)',
      ['--set', 'modules[0].name=ocr', '--set', 'modules[0].capacity=0'],
      /modules\/0\/capacity': minimum: got 0, want 1/,
    ],
    [
      'a setting name that is not a variable (values.schema.json)',
      ['--set', 'config.temporalAddress=x'],
      /'temporalAddress' does not match pattern/,
    ],
    [
      'a secret variable among the plain settings',
      ['--set', 'config.DATABASE_URL=postgres://app@db/rpa'],
      /config\.DATABASE_URL is a secret: set secrets\.DATABASE_URL or put it in secrets\.existingSecret/,
    ],
    [
      'a variable the chart derives from another value',
      ['--set', 'config.PORT=4000'],
      /config\.PORT is set by the chart: use api\.port/,
    ],
    [
      'a module listed twice',
      ['--set', 'modules[0].name=ocr', '--set', 'modules[1].name=ocr'],
      /modules: "ocr" is listed twice/,
    ],
  ])('%s', async (_what, args, message) => {
    expect(await renderError(['--values', REQUIRED_VALUES, ...args])).toMatch(message);
  });
});

// A default install used to render, start its pods and have each exit with the production guard's
// message (ADR 0059): the chart now refuses at render time, naming every value to set.
describe('values the chart requires', () => {
  const REQUIRED = {
    DATABASE_URL: /secrets\.DATABASE_URL: the app role's Postgres URL/,
    REDIS_URL: /secrets\.REDIS_URL: required with config\.NODE_ENV=production/,
    SECRETS_KEYS: /secrets\.SECRETS_KEYS: required with config\.NODE_ENV=production/,
  };

  test('the bare defaults: helm template exits non-zero naming each missing value and the way out', async () => {
    const stderr = await renderError([]);
    expect(stderr).toMatch(/missing required values \(the pods would exit at start without them\)/);
    for (const message of Object.values(REQUIRED)) expect(stderr).toMatch(message);
    expect(stderr).toMatch(/name it in secrets\.existingSecret/);
    // The defaults give a Temporal address.
    expect(stderr).not.toMatch(/config\.TEMPORAL_ADDRESS/);
  });

  test.each(Object.keys(REQUIRED) as (keyof typeof REQUIRED)[])(
    'secrets.%s alone missing: only it is named',
    async (missing) => {
      const given = Object.entries(REQUIRED_SECRETS)
        .filter(([key]) => key !== missing)
        .flatMap(([key, value]) => ['--set-string', `secrets.${key}=${value}`]);
      const stderr = await renderError(given);
      const named = Object.entries(REQUIRED)
        .filter(([, message]) => message.test(stderr))
        .map(([key]) => key);
      expect(named).toEqual([missing]);
    },
  );

  test('an empty value counts as missing, as core/config.ts has it', async () => {
    expect(await renderError(['--values', REQUIRED_VALUES, '--set', 'secrets.REDIS_URL='])).toMatch(
      REQUIRED.REDIS_URL,
    );
  });

  test('config.TEMPORAL_ADDRESS removed in production is named, unless a profile file is given', async () => {
    expect(await renderError(['--values', REQUIRED_VALUES, '--set', 'config.TEMPORAL_ADDRESS=null'])).toMatch(
      /config\.TEMPORAL_ADDRESS: required with config\.NODE_ENV=production/,
    );
    const manifests = await render([
      '--values',
      REQUIRED_VALUES,
      '--set',
      'config.TEMPORAL_ADDRESS=null',
      '--set',
      'config.TEMPORAL_CONFIG_FILE=/etc/rpa/temporal.toml',
    ]);
    expect(named(manifests, 'ConfigMap', `${RELEASE}-rpa-orchestrator`).data).not.toHaveProperty(
      'TEMPORAL_ADDRESS',
    );
  });

  test('a profile file from a Secret: mounted, named, and the address and namespace come from it', async () => {
    const args = ['--values', REQUIRED_VALUES, '--set', 'temporal.profile.existingSecret=temporal-profile'];
    const manifests = await render([...args, '--set', 'temporal.profile.name=cloud']);
    const data = named(manifests, 'ConfigMap', `${RELEASE}-rpa-orchestrator`).data ?? {};
    expect(data).toMatchObject({
      TEMPORAL_CONFIG_FILE: '/etc/rpa/temporal-profile/temporal.toml',
      TEMPORAL_PROFILE: 'cloud',
    });
    // A variable would win over the file: the profile's address and namespace must not be shadowed.
    expect(Object.keys(data)).not.toEqual(expect.arrayContaining(['TEMPORAL_ADDRESS']));
    expect(Object.keys(data)).not.toEqual(expect.arrayContaining(['TEMPORAL_NAMESPACE']));
    // What a pod then reads, with the Secret's file where the mount puts it.
    const dir = mkdtempSync(path.join(tmpdir(), 'rpa-helm-profile-'));
    try {
      const file = path.join(dir, 'temporal.toml');
      writeFileSync(
        file,
        '[profile.cloud]\naddress = "rpa.a1b2c.tmprl.cloud:7233"\nnamespace = "rpa.a1b2c"\napi_key = "k"\n',
      );
      for (const workload of workloads(manifests)) {
        const container = podTemplate(workload).spec.containers[0] as Container;
        if (workload.metadata.name.endsWith('-migrate')) continue;
        expect(container.volumeMounts).toEqual(
          expect.arrayContaining([
            { name: 'temporal-profile', mountPath: '/etc/rpa/temporal-profile', readOnly: true },
          ]),
        );
        const env = {
          ...containerEnvironment(manifests, container, REQUIRED_SECRETS),
          TEMPORAL_CONFIG_FILE: file,
        };
        const config = parseConfig(env, { needs: ['redis', 'secrets', 'temporal'] });
        expect({ address: config.TEMPORAL_ADDRESS, namespace: config.TEMPORAL_NAMESPACE }).toEqual({
          address: 'rpa.a1b2c.tmprl.cloud:7233',
          namespace: 'rpa.a1b2c',
        });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // The chart sets those two itself now.
    expect(await renderError([...args, '--set', 'config.TEMPORAL_PROFILE=other'])).toContain(
      'config.TEMPORAL_PROFILE is set by the chart: use temporal.profile.name',
    );
    const report = await kubeconform(toYamlStream(manifests));
    expect(report.summary).toMatchObject({ valid: manifests.length, invalid: 0, errors: 0 });
  });

  test('outside production only DATABASE_URL is required', async () => {
    expect(await renderError(['--set', 'config.NODE_ENV=development'])).toMatch(REQUIRED.DATABASE_URL);
    const manifests = await render([
      '--set',
      'config.NODE_ENV=development',
      '--set-string',
      `secrets.DATABASE_URL=${REQUIRED_SECRETS.DATABASE_URL}`,
    ]);
    expect(Object.keys(named(manifests, 'Secret', `${RELEASE}-rpa-orchestrator`).data ?? {})).toEqual([
      'DATABASE_URL',
    ]);
  });

  test('secrets.existingSecret alone renders: the Secret it names is to hold them', async () => {
    const manifests = await render(['--set', 'secrets.existingSecret=rpa-credentials']);
    expect(ofKind(manifests, 'Secret')).toEqual([]);
    const report = await kubeconform(toYamlStream(manifests));
    expect(report.summary).toEqual({ valid: manifests.length, invalid: 0, errors: 0, skipped: 0 });
    // Each API and worker pod reads the three from it (optional: a missing one is left unset and
    // the process names it at start).
    for (const workload of ofKind(manifests, 'Deployment')) {
      const container = podTemplate(workload).spec.containers[0] as Container;
      const refs = Object.fromEntries(
        (container.env ?? []).flatMap((e) =>
          e.valueFrom?.secretKeyRef ? [[e.name, e.valueFrom.secretKeyRef.name]] : [],
        ),
      );
      expect(refs).toMatchObject({
        DATABASE_URL: 'rpa-credentials',
        REDIS_URL: 'rpa-credentials',
        SECRETS_KEYS: 'rpa-credentials',
      });
    }
  });

  test('the values file of the worked install in docs/deploy-kubernetes.md renders and is valid', async () => {
    const doc = readFileSync(path.join(ROOT, 'docs', 'deploy-kubernetes.md'), 'utf8');
    const block = /\*\*4\. Write a values file\*\*[^\n]*\n\n```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(block).toContain('existingSecret');
    const dir = mkdtempSync(path.join(tmpdir(), 'rpa-helm-doc-'));
    try {
      const file = path.join(dir, 'my-values.yaml');
      writeFileSync(file, block ?? '');
      const manifests = await render(['--values', file]);
      const report = await kubeconform(toYamlStream(manifests));
      expect(report.summary).toEqual({ valid: manifests.length, invalid: 0, errors: 0, skipped: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

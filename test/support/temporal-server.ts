import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { runProcess } from './rpa-cli';
import { ROOT } from './test-env';

// A real Temporal server (not the CLI's dev server) for one test file: `temporal-server` v1.29.1,
// built by scripts/install-temporal-server.sh, with Postgres (postgres12) for both the default and
// the visibility store, all four services in one process on loopback ports of its own (ADR 0060).

export const TOOLS_BIN = path.join(ROOT, '.tools', 'bin');
export const TEMPORAL_SERVER = path.join(TOOLS_BIN, 'temporal-server');
export const TEMPORAL_SQL_TOOL = path.join(TOOLS_BIN, 'temporal-sql-tool');

/** Throws naming the install script when a tool it builds is not there. */
export function requireServerTools(): void {
  for (const tool of [TEMPORAL_SERVER, TEMPORAL_SQL_TOOL]) {
    if (!existsSync(tool)) {
      throw new Error(
        `${tool} is missing: run bash scripts/install-temporal-server.sh (npm test runs it; it builds Temporal v1.29.1 with go install)`,
      );
    }
  }
}

export interface PostgresStore {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export interface TemporalServerOptions {
  /** Working directory: the config file and the server's log go here. */
  dir: string;
  store: PostgresStore;
  visibility: PostgresStore;
  /** `temporal` (the CLI), for the health check. */
  temporalCli: string;
}

const SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;
/** Where the server's ports are looked for: below 32768 (see start()), clear of Temporal's defaults. */
const FIRST_PORT = 7340;

function storeYaml(store: PostgresStore, maxConns: number): string {
  return [
    '      sql:',
    '        pluginName: postgres12',
    `        databaseName: ${JSON.stringify(store.database)}`,
    `        connectAddr: ${JSON.stringify(`${store.host}:${store.port}`)}`,
    '        connectProtocol: tcp',
    `        user: ${JSON.stringify(store.user)}`,
    `        password: ${JSON.stringify(store.password)}`,
    `        maxConns: ${maxConns}`,
    `        maxIdleConns: ${maxConns}`,
    '        maxConnLifetime: 1h',
  ].join('\n');
}

/**
 * The server's config file, in the shape of v1.29.1's config/development-postgres12.yaml: SQL for both
 * stores, no global namespaces, 4 history shards, each service's gRPC and membership port on
 * loopback, the dynamic config docker-compose mounts (deploy/dynamicconfig.yaml).
 */
export function serverConfig(
  options: Pick<TemporalServerOptions, 'store' | 'visibility'>,
  ports: Record<(typeof SERVICES)[number], { grpc: number; membership: number }>,
): string {
  const services = SERVICES.flatMap((name) => [
    `  ${name}:`,
    '    rpc:',
    `      grpcPort: ${ports[name].grpc}`,
    `      membershipPort: ${ports[name].membership}`,
    '      bindOnLocalHost: true',
  ]);
  return [
    'log:',
    '  stdout: true',
    '  level: warn',
    'persistence:',
    '  defaultStore: default',
    '  visibilityStore: visibility',
    '  numHistoryShards: 4',
    '  datastores:',
    '    default:',
    storeYaml(options.store, 20),
    '    visibility:',
    storeYaml(options.visibility, 4),
    'global:',
    '  membership:',
    '    maxJoinDuration: 30s',
    '    broadcastAddress: 127.0.0.1',
    'services:',
    ...services,
    'clusterMetadata:',
    '  enableGlobalNamespace: false',
    '  failoverVersionIncrement: 10',
    '  masterClusterName: active',
    '  currentClusterName: active',
    '  clusterInformation:',
    '    active:',
    '      enabled: true',
    '      initialFailoverVersion: 1',
    '      rpcName: frontend',
    `      rpcAddress: 127.0.0.1:${ports.frontend.grpc}`,
    'dcRedirectionPolicy:',
    '  policy: noop',
    'dynamicConfigClient:',
    `  filepath: ${JSON.stringify(path.join(ROOT, 'deploy', 'dynamicconfig.yaml'))}`,
    '  pollInterval: 10s',
    '',
  ].join('\n');
}

/** A loopback port from FIRST_PORT on that nothing listens on right now (and not in `taken`). */
async function freePortBelow32768(taken: Set<number>): Promise<number> {
  for (let port = FIRST_PORT; port < FIRST_PORT + 200; port++) {
    if (taken.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const probe = net.createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free loopback port from ${FIRST_PORT} to ${FIRST_PORT + 199}`);
}

export class TemporalServer {
  private child: ChildProcess | null = null;
  private log = '';
  address = '';
  /** Where the config file is: `<dir>/config/<ENV>.yaml`, read by `--root <dir> --config config --env rpa`. */
  readonly configFile: string;

  constructor(private readonly options: TemporalServerOptions) {
    this.configFile = path.join(options.dir, 'config', 'rpa.yaml');
  }

  /** Writes the config, starts the server and waits until `temporal operator cluster health` answers SERVING. */
  async start(timeoutMs = 90_000): Promise<void> {
    requireServerTools();
    // Below 32768: the SQL schema keeps a member's membership port in a smallint
    // (cluster_membership.rpc_port), and the server exits at start when it does not fit. The
    // kernel's pick (freePort) is above that on Linux. The gRPC ports come from the same range.
    const taken = new Set<number>();
    const next = async () => {
      const port = await freePortBelow32768(taken);
      taken.add(port);
      return port;
    };
    const ports = {} as Parameters<typeof serverConfig>[1];
    for (const name of SERVICES) ports[name] = { grpc: await next(), membership: await next() };
    mkdirSync(path.dirname(this.configFile), { recursive: true });
    writeFileSync(this.configFile, serverConfig(this.options, ports));
    this.address = `127.0.0.1:${ports.frontend.grpc}`;
    const logFile = createWriteStream(path.join(this.options.dir, 'temporal-server.log'));
    const child = spawn(
      TEMPORAL_SERVER,
      ['--root', this.options.dir, '--config', 'config', '--env', 'rpa', '--allow-no-auth', 'start'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const append = (chunk: Buffer) => {
      logFile.write(chunk);
      this.log = (this.log + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    child.once('exit', () => logFile.end());
    this.child = child;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`temporal-server exited (${child.exitCode ?? child.signalCode}):\n${this.log}`);
      const health = await runProcess(this.options.temporalCli, [
        'operator',
        'cluster',
        'health',
        '--address',
        this.address,
      ]);
      if (health.code === 0 && health.stdout.includes('SERVING')) return;
      if (Date.now() > deadline)
        throw new Error(`temporal-server at ${this.address} not healthy in time:\n${this.log}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  output(): string {
    return this.log;
  }

  /** SIGTERM (the server shuts its services down in order), SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 20_000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}

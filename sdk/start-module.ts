import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Worker } from '@temporalio/worker';
import { loadConfig, parseConfig } from '../core/config';
import { ANY_TYPE } from '../core/domain/load-balancer';
import { SEMVER_PATTERN } from '../core/domain/semver';
import { moduleTaskQueue } from '../core/domain/task-queues';
import { createLogger, type Logger } from '../core/observability/logger';
import { logContextInterceptor } from '../workers/log-context.interceptor';
import { installWorkerRuntime } from '../workers/runtime';
import { withSecretParams } from '../workers/secret-params';
import { connectTemporal } from './connection';
import type { ModuleStep } from './define-step';
import { DefinitionError } from './errors';
import { serveModuleMetrics } from './metrics';
import {
  type RegisteredModule,
  type RegistrationBody,
  RegistrationClient,
  RegistryError,
} from './registration.client';
import { moduleSecrets } from './secrets';
import { stepActivity } from './step-activity';

// A module process: registers its kinds with the API, serves each as an activity on
// `module-<name>`, keeps its replica alive with heartbeats, and leaves in the order that loses no
// step: deregister the replica (routing stops), stop polling, let in-flight steps finish within the
// grace period, exit.

export interface StartModuleOptions {
  /** The module's name (lowercase, digits, dashes); its task queue is `module-<name>`. */
  name: string;
  /** Semver of this module build; a new major version under the same name is refused (409). Default 1.0.0. */
  version?: string;
  /** Steps one replica runs at once. */
  capacity: number;
  /** Robot types it serves; all (`*`) by default. */
  robotTypes?: string[];
  steps: readonly ModuleStep[];
  /** The API; default RPA_API_URL, else http://127.0.0.1:$PORT. */
  apiUrl?: string;
  /** An API key with the scope modules:write; default RPA_API_KEY. */
  apiKey?: string;
  /** How long in-flight steps may run on after a stop before they are cancelled (default 30 s). */
  shutdownGraceMs?: number;
  /** Serve Prometheus metrics on this port (0: any free port); default WORKER_METRICS_PORT, else none. */
  metricsPort?: number;
  /** Settings to read instead of the process environment (tests, embedding). */
  env?: Record<string, string | undefined>;
  /** SIGTERM and SIGINT stop the module and exit the process (default true); embedders pass false and call stop(). */
  handleSignals?: boolean;
  logger?: Logger;
}

export interface ModuleHandle {
  name: string;
  replicaId: string;
  taskQueue: string;
  /** The API's answer to the registration. */
  registration: RegisteredModule;
  /** Deregisters the replica, stops polling, waits for in-flight steps (at most the grace period), closes. */
  stop(): Promise<void>;
  /** Settles once the module has stopped; rejects if its worker failed. */
  done: Promise<void>;
}

export const DEFAULT_SHUTDOWN_GRACE_MS = 30_000;
const MODULE_NAME = /^[a-z][a-z0-9-]{0,62}$/;
const ROBOT_TYPE = /^(\*|[a-z][a-z0-9-]{0,62})$/;

function checkOptions(options: StartModuleOptions): void {
  const problems: string[] = [];
  if (!MODULE_NAME.test(options.name))
    problems.push(`name "${options.name}": lowercase letters, digits and dashes, from a letter`);
  if (options.version !== undefined && !SEMVER_PATTERN.test(options.version))
    problems.push(`version "${options.version}": a semantic version like 1.0.0`);
  if (!Number.isInteger(options.capacity) || options.capacity < 1 || options.capacity > 10_000)
    problems.push('capacity: a whole number from 1 to 10000');
  if (options.steps.length < 1 || options.steps.length > 50) problems.push('steps: 1 to 50 steps');
  const kinds = options.steps.map((step) => step.kind);
  const repeated = kinds.filter((kind, index) => kinds.indexOf(kind) !== index);
  if (repeated.length > 0) problems.push(`steps: kind(s) served twice: ${[...new Set(repeated)].join(', ')}`);
  const badTypes = (options.robotTypes ?? []).filter((type) => !ROBOT_TYPE.test(type));
  if (badTypes.length > 0) problems.push(`robotTypes: not robot type names: ${badTypes.join(', ')}`);
  if (problems.length > 0) throw new DefinitionError(`module ${options.name}: ${problems.join('; ')}`);
}

/** Unique per process start; the characters the heartbeat route accepts. */
function newReplicaId(): string {
  const host = hostname()
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .slice(0, 80);
  return `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

export async function startModule(options: StartModuleOptions): Promise<ModuleHandle> {
  checkOptions(options);
  // A module reaches the project through Temporal alone: in production it must not guess the address.
  const config = options.env ? parseConfig(options.env, { needs: ['temporal'] }) : loadConfig(['temporal']);
  const logger = options.logger ?? createLogger(config, `module:${options.name}`);
  // Signals are ours: the replica must be deregistered before the worker stops.
  installWorkerRuntime(logger, config.TEMPORAL_METRICS_BIND, { shutdownSignals: [] });
  // Held from the first moment: without a listener a SIGTERM kills the process outright, and the
  // replica is live at the API before this process has read the heartbeat's answer.
  const ownsProcess = options.handleSignals ?? true;
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
  let earlySignal: NodeJS.Signals | undefined;
  const holdSignal = (signal: NodeJS.Signals) => {
    earlySignal ??= signal;
  };
  const releaseSignals = () => {
    for (const signal of signals) process.off(signal, holdSignal);
  };
  if (ownsProcess) for (const signal of signals) process.on(signal, holdSignal);
  const { name, capacity } = options;
  const apiUrl = options.apiUrl ?? config.RPA_API_URL ?? `http://127.0.0.1:${config.PORT}`;
  const apiKey = options.apiKey ?? config.RPA_API_KEY;
  if (!apiKey) {
    throw new DefinitionError(
      `module ${name}: needs an API key with the scope modules:write (RPA_API_KEY or apiKey)`,
    );
  }
  const registry = new RegistrationClient(apiUrl, apiKey);
  const body: RegistrationBody = {
    name,
    version: options.version ?? '1.0.0',
    capacity,
    supportedRobotTypes: options.robotTypes?.length ? options.robotTypes : [ANY_TYPE],
    steps: options.steps.map((step) => step.declaration),
  };
  // Before anything is opened: a refused registration (bad key, schema, version) costs nothing to undo.
  const registration = await registry.register(body).catch((err: unknown) => {
    releaseSignals();
    throw err;
  });

  const closers: (() => Promise<unknown>)[] = [];
  const closeAll = async () => {
    for (const close of closers.reverse())
      await close().catch((err: unknown) => logger.warn({ err }, 'closing failed'));
  };
  const replicaId = newReplicaId();
  const taskQueue = moduleTaskQueue(name);
  const graceMs = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
  let worker: Worker;
  try {
    const connection = await connectTemporal(config);
    closers.push(() => connection.close());
    const secrets = await moduleSecrets(config);
    closers.push(() => secrets.close());
    const metricsPort = options.metricsPort ?? config.WORKER_METRICS_PORT;
    if (metricsPort !== undefined)
      closers.push(
        await serveModuleMetrics(metricsPort, config.WORKER_METRICS_HOST, logger, config.METRICS_TOKEN),
      );
    const activities = Object.fromEntries(
      options.steps.map((step) => [step.kind, stepActivity(step, { moduleName: name, logger })]),
    );
    worker = await Worker.create({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue,
      identity: replicaId,
      activities: withSecretParams(
        activities,
        secrets.reveal,
        Object.fromEntries(options.steps.map((step) => [step.kind, step.secrets])),
      ),
      maxConcurrentActivityTaskExecutions: capacity,
      shutdownGraceTime: graceMs,
      // Past this the worker gives up on steps that ignore cancellation, so the process can exit.
      shutdownForceTime: graceMs + 10_000,
      interceptors: { activity: [() => ({ inbound: logContextInterceptor })] },
    });
  } catch (err) {
    releaseSignals();
    await closeAll();
    throw err;
  }
  const running = worker.run();

  // Our own MODULE_HEARTBEAT_SECONDS until the API's answer says what it expects.
  let heartbeatSeconds = config.MODULE_HEARTBEAT_SECONDS;
  let timer: NodeJS.Timeout | undefined;
  let stopping = false;
  let beating: Promise<void> = Promise.resolve();
  const heartbeat = async () => {
    try {
      const answer = await registry.heartbeat(name, { replicaId, capacity });
      heartbeatSeconds = answer.heartbeatSeconds ?? heartbeatSeconds;
      // Never so rarely that one late answer lets the replica expire.
      if (answer.ttlSeconds) heartbeatSeconds = Math.min(heartbeatSeconds, answer.ttlSeconds / 2);
    } catch (err) {
      // The module was deleted under us (an operator, a test): register again so routing finds it.
      if (err instanceof RegistryError && err.status === 404)
        await registry.register(body).catch(() => undefined);
      throw err;
    }
  };
  const schedule = () => {
    if (stopping) return;
    timer = setTimeout(() => {
      beating = heartbeat()
        .catch((err: unknown) => logger.warn({ err }, 'module heartbeat failed; trying again'))
        .finally(schedule);
    }, heartbeatSeconds * 1000);
  };

  let stopped: Promise<void> | undefined;
  const shutdown = async () => {
    stopping = true;
    clearTimeout(timer);
    await beating; // a heartbeat still on its way would make the replica live again after the DELETE
    await registry
      .deregister(name, replicaId)
      .catch((err: unknown) =>
        logger.warn({ err }, 'deregistering the replica failed; it expires with its TTL'),
      );
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running.catch(() => undefined); // its error is `done`'s
    await closeAll();
    for (const signal of signals) process.off(signal, onSignal);
    logger.info({ module: name, replica: replicaId }, 'module stopped');
  };
  const stop = () => {
    stopped ??= shutdown();
    return stopped;
  };
  function onSignal(signal: NodeJS.Signals) {
    if (stopped !== undefined) {
      logger.warn({ signal }, 'second signal: exiting without waiting for in-flight steps');
      process.exit(130);
    }
    logger.info({ signal, graceMs }, 'stopping: replica deregistered first, then in-flight steps may finish');
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'stopping failed');
        process.exit(1);
      },
    );
  }

  try {
    await heartbeat();
  } catch (err) {
    releaseSignals();
    await stop();
    throw err;
  }
  schedule();
  if (ownsProcess) {
    releaseSignals();
    for (const signal of signals) process.on(signal, onSignal);
    // A signal that came while starting is answered now, by the same orderly stop.
    if (earlySignal) onSignal(earlySignal);
  }

  const done = running.then(
    () => stop(),
    async (err: unknown) => {
      await stop();
      throw err;
    },
  );
  done.catch((err: unknown) => {
    logger.error({ err }, 'module worker failed');
    if (ownsProcess) process.exitCode = 1;
  });
  logger.info(
    {
      module: name,
      version: body.version,
      replica: replicaId,
      taskQueue,
      capacity,
      kinds: body.steps.map((step) => step.kind),
      api: apiUrl,
    },
    'module started',
  );
  return { name, replicaId, taskQueue, registration, stop, done };
}

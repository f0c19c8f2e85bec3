import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Context } from '@temporalio/activity';
import { type ActivityInboundCallsInterceptor, NativeConnection, Worker } from '@temporalio/worker';
import { createTransport } from 'nodemailer';
import { createBasicStepActivities } from '../activities/basic-steps';
import { createEmailStepActivities } from '../activities/email-steps';
import { createExtractActivities } from '../activities/extract';
import { createHttpRequestActivities } from '../activities/http-request';
import { createOcrActivities } from '../activities/ocr';
import { createOcrEngine } from '../activities/ocr-engine';
import type { StepActivities, StepInput, StepOutput } from '../activities/types';
import { ModuleRegistry } from '../api/module-registry';
import { createDocumentStore } from '../core/adapters/document-store.factory';
import { SsrfGuard } from '../core/adapters/http/ssrf.guard';
import { connectToTemporal, temporalConnectionOptions } from '../core/adapters/temporal/connection.options';
import type { Config } from '../core/config';
import { ANY_TYPE } from '../core/domain/load-balancer';
import type { ReplicaInfo } from '../core/domain/module-state';
import {
  ANY_OBJECT_SCHEMA,
  builtInDeclaration,
  type StepDeclaration,
} from '../core/domain/step-declarations';
import { BUILT_IN_STEPS_VERSION, isBuiltInKind } from '../core/domain/step-kinds';
import { moduleTaskQueue } from '../core/domain/task-queues';
import type { Logger } from '../core/observability/logger';
import { moduleStepDuration, moduleSteps } from '../core/observability/metrics';
import { createDatabase, type DatabaseHandle } from '../db/client';
import { DocumentsRepository } from '../db/documents.repository';
import { createModuleStores, type ModuleStores } from '../db/module-stores';
import { createSecretStore } from '../db/secret-store';
import { SentEmailsRepository } from '../db/sent-emails.repository';
import { InFlightReporter } from './in-flight-reporter';
import { logContextInterceptor } from './log-context.interceptor';
import { serveWorkerMetrics } from './metrics-server';
import { installWorkerRuntime } from './runtime';
import { noSecrets, type RevealSecret, type StepSecretParams, withSecretParams } from './secret-params';

// The module worker process's composition root: its step activities and their dependencies are
// made here.

export const MODULE_VERSION = BUILT_IN_STEPS_VERSION;

/** Word boxes are dropped from an ocr result past this size: it goes into workflow history. */
export const OCR_MAX_RESULT_BYTES = 256 * 1024;

export interface ModuleOptions {
  name: string;
  capacity: number;
  robotTypes: string[];
}

export interface ModuleWorkerDeps {
  config: Config;
  connection: NativeConnection;
  moduleStores: ModuleStores;
  logger: Logger;
  module: ModuleOptions;
  /** Where the document steps read document rows (ocr). */
  database: DatabaseHandle;
  /**
   * The step implementations, by kind; the built-in ones unless a module brings its own (custom
   * kinds too, like `ledger.post`: declared with any-object schemas).
   */
  activities?: Partial<StepActivities> | Record<string, StepActivity>;
  /** Looks up `{"$secret": name}` step params; without it such a step fails with a clear reason. */
  revealSecret?: RevealSecret;
  /** Which params of each step kind may hold secrets; the built-in kinds' declarations by default. */
  secretParams?: StepSecretParams;
}

export interface ModuleWorker {
  worker: Worker;
  replica: ReplicaInfo;
  /** Runs the worker with heartbeats until it shuts down, then removes the replica. */
  run(): Promise<void>;
  /**
   * The order of a graceful stop that loses no step: the replica leaves routing first (no new step is
   * sent here), then the worker stops polling and its running steps get WORKER_SHUTDOWN_GRACE_SECONDS.
   */
  stop(): Promise<void>;
}

type StepActivity = (input: StepInput) => Promise<StepOutput>;

interface BuiltInSteps {
  activities: Partial<StepActivities>;
  /** Stops what the steps started (the OCR workers). */
  close(): Promise<void>;
}

/** Every step a module worker runs by default, wired to its real dependencies. */
function builtInSteps(config: Config, database: DatabaseHandle): BuiltInSteps {
  // One pool per module process; its workers start with the first ocr step.
  const engine = createOcrEngine(config);
  const documents = new DocumentsRepository(database.db, database.readDb);
  const store = createDocumentStore(config);
  return {
    activities: {
      ...createBasicStepActivities(),
      ...createOcrActivities({
        documents,
        store,
        engine,
        limits: {
          maxDimension: config.OCR_MAX_DIMENSION,
          maxPixels: config.DOCUMENT_MAX_PIXELS,
          pdfDpi: config.OCR_PDF_DPI,
          maxPages: config.OCR_MAX_PAGES,
          maxResultBytes: OCR_MAX_RESULT_BYTES,
          pageTimeoutMs: config.OCR_PAGE_TIMEOUT_SECONDS * 1000,
        },
      }),
      ...createExtractActivities(),
      ...createHttpRequestActivities({
        guard: new SsrfGuard(config.HTTP_STEP_ALLOWED_HOSTS, 'HTTP_STEP_ALLOWED_HOSTS'),
      }),
      // Offered only with a relay: routing then sends send-email steps to modules that can send.
      ...(config.SMTP_URL
        ? createEmailStepActivities({
            transport: createTransport(config.SMTP_URL),
            from: config.SMTP_FROM,
            sentEmails: new SentEmailsRepository(database.db),
            attachments: { documents, store, maxBytes: config.EMAIL_ATTACHMENTS_MAX_BYTES },
          })
        : {}),
    },
    close: () => engine.close(),
  };
}

/**
 * What the module declares of each kind it serves: a built-in kind as built in, a custom one with
 * any-object schemas and the secret params the worker resolves for it.
 */
function declarations(kinds: string[], secretParams: StepSecretParams | undefined): StepDeclaration[] {
  return kinds.map((kind) =>
    isBuiltInKind(kind)
      ? builtInDeclaration(kind)
      : {
          kind,
          version: MODULE_VERSION,
          description: '',
          params: { ...ANY_OBJECT_SCHEMA },
          input: { ...ANY_OBJECT_SCHEMA },
          output: { ...ANY_OBJECT_SCHEMA },
          secretParams: [...(secretParams?.[kind] ?? [])],
        },
  );
}

/**
 * Counts in-flight steps for the load balancer (written behind, off the step's path: see
 * InFlightReporter), and each step's outcome and run time.
 */
function countingInFlight(inFlight: InFlightReporter, replica: ReplicaInfo): ActivityInboundCallsInterceptor {
  return {
    async execute(input, next) {
      inFlight.started();
      const labels = { module: replica.moduleName, step: Context.current().info.activityType };
      const stop = moduleStepDuration.startTimer(labels);
      try {
        const result = await next(input);
        moduleSteps.inc({ ...labels, outcome: 'ok' });
        return result;
      } catch (err) {
        moduleSteps.inc({ ...labels, outcome: 'failed' });
        throw err;
      } finally {
        stop();
        inFlight.ended();
      }
    },
  };
}

/**
 * Registers the module (idempotent upsert, through the same registry as POST /v1/modules), then creates its worker on `module-<name>` with an
 * interceptor that counts in-flight steps for the load balancer.
 */
export async function createModuleWorker({
  config,
  connection,
  moduleStores,
  logger,
  module,
  database,
  activities: custom,
  revealSecret = noSecrets,
  secretParams,
}: ModuleWorkerDeps): Promise<ModuleWorker> {
  const builtIn = custom ? null : builtInSteps(config, database);
  const activities = (custom ?? builtIn?.activities ?? {}) as Record<string, StepActivity>;
  const replica: ReplicaInfo = {
    moduleName: module.name,
    replicaId: `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
    capacity: module.capacity,
    host: hostname(),
    pid: process.pid,
    startedAt: new Date().toISOString(),
  };
  await new ModuleRegistry(moduleStores).register(
    {
      name: module.name,
      version: MODULE_VERSION,
      capacity: module.capacity,
      supportedRobotTypes: module.robotTypes.length > 0 ? module.robotTypes : [ANY_TYPE],
      steps: declarations(Object.keys(activities), secretParams),
    },
    { lastReplica: replica },
  );
  const inFlight = new InFlightReporter(
    (count) => moduleStores.state.setInFlight(replica.moduleName, replica.replicaId, count),
    config.MODULE_IN_FLIGHT_WRITE_MS,
  );
  const counting = countingInFlight(inFlight, replica);
  const heartbeat = () =>
    moduleStores.state.heartbeat(replica, config.MODULE_REPLICA_TTL_SECONDS, Date.now(), inFlight.running());
  await heartbeat();
  await moduleStores.routingTable.invalidate();

  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: moduleTaskQueue(module.name),
    activities: withSecretParams(activities, revealSecret, secretParams),
    maxConcurrentActivityTaskExecutions: module.capacity,
    shutdownGraceTime: config.WORKER_SHUTDOWN_GRACE_SECONDS * 1000,
    // Past this the worker gives up on steps that ignore cancellation, so the process can exit.
    shutdownForceTime: config.WORKER_SHUTDOWN_GRACE_SECONDS * 1000 + 10_000,
    interceptors: {
      activity: [() => ({ inbound: logContextInterceptor }), () => ({ inbound: counting })],
    },
  });

  let timer: NodeJS.Timeout | undefined;
  let beating: Promise<unknown> = Promise.resolve();
  return {
    worker,
    replica,
    async run() {
      timer = setInterval(() => {
        beating = heartbeat().catch((err: unknown) => logger.warn({ err }, 'module heartbeat failed'));
      }, config.MODULE_HEARTBEAT_SECONDS * 1000);
      try {
        await worker.run();
      } finally {
        clearInterval(timer);
        await inFlight.close();
        await builtIn
          ?.close()
          .catch((err: unknown) => logger.warn({ err }, 'stopping the OCR workers failed'));
        await moduleStores.state.removeReplica(replica.moduleName, replica.replicaId).catch(() => undefined);
      }
    },
    async stop() {
      clearInterval(timer);
      await beating; // a heartbeat still on its way would make the replica live again
      await moduleStores.state
        .removeReplica(replica.moduleName, replica.replicaId)
        .then(() => moduleStores.routingTable.invalidate())
        .catch((err: unknown) =>
          logger.warn({ err }, 'deregistering the replica failed; it expires with its TTL'),
        );
      if (worker.getState() === 'RUNNING') worker.shutdown();
    },
  };
}

/** Process entry; `onReady` is called once the module is registered and its worker created. */
export async function runModuleWorker(
  config: Config,
  logger: Logger,
  module: ModuleOptions,
  onReady?: () => void,
): Promise<void> {
  // Signals are ours: the replica leaves routing before the worker stops (ModuleWorker.stop).
  installWorkerRuntime(logger, config.TEMPORAL_METRICS_BIND, { shutdownSignals: [] });
  let stopRequested: NodeJS.Signals | undefined;
  let stop: (() => Promise<void>) | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopRequested) {
      logger.warn({ signal }, 'second signal: exiting without waiting for running steps');
      process.exit(130);
    }
    stopRequested = signal;
    logger.info(
      { signal, graceSeconds: config.WORKER_SHUTDOWN_GRACE_SECONDS },
      'stopping: replica deregistered first, then running steps may finish',
    );
    void stop?.();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const connection = await connectToTemporal(config, () =>
    NativeConnection.connect(temporalConnectionOptions(config)),
  );
  const database: DatabaseHandle = await createDatabase(config);
  const moduleStores = createModuleStores(config, database);
  const closeMetrics = await serveWorkerMetrics(config, logger);
  try {
    const secrets = createSecretStore(config, database);
    const moduleWorker = await createModuleWorker({
      config,
      connection,
      moduleStores,
      logger,
      module,
      database,
      ...(secrets.configured ? { revealSecret: (name: string) => secrets.reveal(name) } : {}),
    });
    logger.info(
      {
        module: module.name,
        replica: moduleWorker.replica.replicaId,
        capacity: module.capacity,
        taskQueue: moduleTaskQueue(module.name),
      },
      'module worker started',
    );
    stop = () => moduleWorker.stop();
    const running = moduleWorker.run();
    // A signal that came while the worker was being made stops it now.
    if (stopRequested) void stop();
    onReady?.();
    await running;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await moduleStores.close();
    await database.close();
    await connection.close();
    await closeMetrics?.();
  }
}

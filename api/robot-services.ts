import type { Client } from '@temporalio/client';
import { createDocumentStore } from '../core/adapters/document-store.factory';
import type { StatusCache } from '../core/adapters/redis/status-cache';
import type { Config } from '../core/config';
import { type BuiltInRobotTypes, createBuiltInRobotTypes } from '../core/domain/robot-types';
import type { Logger } from '../core/observability/logger';
import type { DatabaseHandle } from '../db/client';
import { DatabaseGuard } from '../db/database-guard';
import { DocumentsRepository } from '../db/documents.repository';
import { ExecutionsRepository } from '../db/executions.repository';
import { RobotTypesRepository } from '../db/robot-types.repository';
import { RobotsRepository } from '../db/robots.repository';
import { StepKindsRepository } from '../db/step-kinds.repository';
import { BulkRobotMatcher } from './bulk-robots.matcher';
import { DocumentsService } from './documents.service';
import { RobotControlService } from './robot-control.service';
import { RobotTypesService } from './robot-types.service';
import { RobotsService } from './robots.service';

/**
 * How robots and documents are made, for every process that makes them: the API (its routes) and
 * the control worker (email intake, reconciliation). One builder, so both check a robot's type,
 * input and documents alike.
 */
export interface RobotServices {
  builtIns: BuiltInRobotTypes;
  /** The circuit breaker around these services' database calls. */
  guard: DatabaseGuard;
  robotsRepository: RobotsRepository;
  executionsRepository: ExecutionsRepository;
  robotTypesRepository: RobotTypesRepository;
  robotTypes: RobotTypesService;
  robots: RobotsService;
  documents: DocumentsService;
}

export interface RobotServicesDeps {
  config: Config;
  database: DatabaseHandle;
  temporal: Client;
  cache: StatusCache;
  logger: Logger;
}

export function createRobotServices({
  config,
  database,
  temporal,
  cache,
  logger,
}: RobotServicesDeps): RobotServices {
  const builtIns = createBuiltInRobotTypes({ invoiceApprovalBelow: config.INVOICE_APPROVAL_BELOW });
  const guard = new DatabaseGuard({
    threshold: config.DB_CIRCUIT_FAILURE_THRESHOLD,
    halfOpenAfterMs: config.DB_CIRCUIT_HALF_OPEN_AFTER_SECONDS * 1000,
  });
  const robotsRepository = new RobotsRepository(database.db, database.readDb);
  const executionsRepository = new ExecutionsRepository(database.db, database.readDb);
  const robotTypesRepository = new RobotTypesRepository(database.db);
  const robotTypes = new RobotTypesService({
    repository: robotTypesRepository,
    guard,
    builtIns,
    stepKinds: new StepKindsRepository(database.db),
  });
  return {
    builtIns,
    guard,
    robotsRepository,
    executionsRepository,
    robotTypesRepository,
    robotTypes,
    robots: new RobotsService({
      config,
      temporal,
      robots: robotsRepository,
      executions: executionsRepository,
      cache,
      guard,
      logger,
      robotTypes,
    }),
    documents: new DocumentsService(
      new DocumentsRepository(database.db, database.readDb),
      createDocumentStore(config),
      { maxBytes: config.DOCUMENT_MAX_BYTES, maxPixels: config.DOCUMENT_MAX_PIXELS },
    ),
  };
}

/**
 * The single-robot controls, for the API's routes and the control worker's bulk actions alike: one
 * meaning of cancel, retry, resume and reprioritize whoever asks.
 */
export function createRobotControlService(
  robot: RobotServices,
  { config, temporal, cache, logger }: Omit<RobotServicesDeps, 'database'>,
): RobotControlService {
  return new RobotControlService({
    config,
    temporal,
    robotsService: robot.robots,
    robots: robot.robotsRepository,
    executions: robot.executionsRepository,
    cache,
    guard: robot.guard,
    resolveDefinition: (name, version) => robot.robotTypes.version(name, version),
    logger,
  });
}

/** Which robots a bulk action matches: the API counts with it, the bulk workflow's activity pages with it. */
export function createBulkMatcher(
  config: Config,
  robots: RobotsRepository,
  temporal: Client,
): BulkRobotMatcher {
  return new BulkRobotMatcher({
    robots,
    temporal,
    namespace: config.TEMPORAL_NAMESPACE,
    controlTaskQueue: config.CONTROL_TASK_QUEUE,
  });
}

import { NativeConnection } from '@temporalio/worker';
import { connectToTemporal, temporalConnectionOptions } from '../core/adapters/temporal/connection.options';
import type { Config } from '../core/config';

/**
 * The module's connection to Temporal, from the same settings as the project's workers: the
 * TEMPORAL_* variables or a TEMPORAL_CONFIG_FILE profile (docs/deploy.md). The namespace goes to the worker.
 */
export function connectTemporal(config: Config): Promise<NativeConnection> {
  return connectToTemporal(config, () => NativeConnection.connect(temporalConnectionOptions(config)));
}

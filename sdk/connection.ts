import { NativeConnection } from '@temporalio/worker';
import { temporalConnectionOptions } from '../core/adapters/temporal/connection.options';
import type { Config } from '../core/config';

/**
 * The module's connection to Temporal, from the same settings as the project's workers:
 * TEMPORAL_ADDRESS, TEMPORAL_TLS, TEMPORAL_TLS_CERT_PATH/KEY_PATH (mTLS), TEMPORAL_TLS_CA_PATH (a
 * private CA) and TEMPORAL_API_KEY (Temporal Cloud; implies TLS). The namespace goes to the worker.
 */
export function connectTemporal(config: Config): Promise<NativeConnection> {
  return NativeConnection.connect(temporalConnectionOptions(config));
}

import { Client, Connection } from '@temporalio/client';
import { connectToTemporal, temporalConnectionOptions } from '../core/adapters/temporal/connection.options';
import type { Config } from '../core/config';

export async function createTemporalClient(config: Config): Promise<Client> {
  const connection = await connectToTemporal(config, () =>
    Connection.connect({ ...temporalConnectionOptions(config), connectTimeout: '5 seconds' }),
  );
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
}

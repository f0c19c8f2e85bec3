import { readFileSync } from 'node:fs';
import type { Config } from '../../config';

type TemporalConfig = Pick<
  Config,
  | 'TEMPORAL_ADDRESS'
  | 'TEMPORAL_TLS'
  | 'TEMPORAL_TLS_CERT_PATH'
  | 'TEMPORAL_TLS_KEY_PATH'
  | 'TEMPORAL_TLS_CA_PATH'
  | 'TEMPORAL_API_KEY'
>;

/** Connection options shared by the client (API, CLI), the workers' and SDK modules' native connections. */
export function temporalConnectionOptions(config: TemporalConfig) {
  const clientCertPair =
    config.TEMPORAL_TLS_CERT_PATH && config.TEMPORAL_TLS_KEY_PATH
      ? { crt: readFileSync(config.TEMPORAL_TLS_CERT_PATH), key: readFileSync(config.TEMPORAL_TLS_KEY_PATH) }
      : undefined;
  const serverRootCACertificate = config.TEMPORAL_TLS_CA_PATH
    ? readFileSync(config.TEMPORAL_TLS_CA_PATH)
    : undefined;
  const tlsOptions =
    clientCertPair || serverRootCACertificate
      ? {
          ...(clientCertPair ? { clientCertPair } : {}),
          ...(serverRootCACertificate ? { serverRootCACertificate } : {}),
        }
      : undefined;
  const tls = config.TEMPORAL_TLS || tlsOptions || config.TEMPORAL_API_KEY ? (tlsOptions ?? true) : undefined;
  return {
    address: config.TEMPORAL_ADDRESS,
    ...(tls !== undefined ? { tls } : {}),
    ...(config.TEMPORAL_API_KEY ? { apiKey: config.TEMPORAL_API_KEY } : {}),
  };
}

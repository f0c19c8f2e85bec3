import { readFileSync } from 'node:fs';
import type { Config } from '../../config';

type TemporalConfig = Pick<
  Config,
  | 'TEMPORAL_ADDRESS'
  | 'TEMPORAL_TLS'
  | 'TEMPORAL_TLS_CLIENT_CERT_PATH'
  | 'TEMPORAL_TLS_CLIENT_CERT_DATA'
  | 'TEMPORAL_TLS_CLIENT_KEY_PATH'
  | 'TEMPORAL_TLS_CLIENT_KEY_DATA'
  | 'TEMPORAL_TLS_SERVER_CA_CERT_PATH'
  | 'TEMPORAL_TLS_SERVER_CA_CERT_DATA'
  | 'TEMPORAL_TLS_SERVER_NAME'
  | 'TEMPORAL_TLS_CERT_PATH'
  | 'TEMPORAL_TLS_KEY_PATH'
  | 'TEMPORAL_TLS_CA_PATH'
  | 'TEMPORAL_API_KEY'
>;

interface PemSource {
  data: string | undefined;
  file: string | undefined;
}

/** Where each piece of TLS material comes from: Temporal's names first, our older *_PATH aliases after. */
function tlsSources(config: TemporalConfig): Record<'cert' | 'key' | 'ca', PemSource> {
  return {
    cert: {
      data: config.TEMPORAL_TLS_CLIENT_CERT_DATA,
      file: config.TEMPORAL_TLS_CLIENT_CERT_PATH ?? config.TEMPORAL_TLS_CERT_PATH,
    },
    key: {
      data: config.TEMPORAL_TLS_CLIENT_KEY_DATA,
      file: config.TEMPORAL_TLS_CLIENT_KEY_PATH ?? config.TEMPORAL_TLS_KEY_PATH,
    },
    ca: {
      data: config.TEMPORAL_TLS_SERVER_CA_CERT_DATA,
      file: config.TEMPORAL_TLS_SERVER_CA_CERT_PATH ?? config.TEMPORAL_TLS_CA_PATH,
    },
  };
}

/** Inline PEM, else the file's bytes, else nothing. */
function pem({ data, file }: PemSource): Buffer | undefined {
  if (data !== undefined) return Buffer.from(data);
  return file === undefined ? undefined : readFileSync(file);
}

/**
 * Connection options shared by every process that talks to Temporal: the API's and the CLI's client,
 * the workers' and SDK modules' native connections (one function, so they cannot drift apart).
 * TLS as Temporal's environment configuration has it: on with TLS material or an API key, or when
 * TEMPORAL_TLS=true (the system's roots); TEMPORAL_TLS=false turns it off even then.
 */
export function temporalConnectionOptions(config: TemporalConfig) {
  const sources = tlsSources(config);
  const crt = pem(sources.cert);
  const key = pem(sources.key);
  const serverRootCACertificate = pem(sources.ca);
  const material = {
    ...(crt && key ? { clientCertPair: { crt, key } } : {}),
    ...(serverRootCACertificate ? { serverRootCACertificate } : {}),
    ...(config.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: config.TEMPORAL_TLS_SERVER_NAME } : {}),
  };
  const hasMaterial = Object.keys(material).length > 0;
  const wanted = config.TEMPORAL_TLS ?? (hasMaterial || config.TEMPORAL_API_KEY !== undefined);
  const tls = wanted ? (hasMaterial ? material : true) : undefined;
  return {
    address: config.TEMPORAL_ADDRESS,
    ...(tls !== undefined ? { tls } : {}),
    ...(config.TEMPORAL_API_KEY ? { apiKey: config.TEMPORAL_API_KEY } : {}),
  };
}

/** How this process reaches Temporal, for a person reading a connection error (never a secret). */
export function describeTemporalTarget(config: TemporalConfig & Pick<Config, 'TEMPORAL_NAMESPACE'>): string {
  const label = ({ data, file }: PemSource) => (data !== undefined ? 'inline PEM' : file);
  const sources = tlsSources(config);
  const cert = label(sources.cert);
  const ca = label(sources.ca);
  const { tls } = temporalConnectionOptions(config);
  const how =
    tls === undefined
      ? 'plain text'
      : [
          cert ? `mTLS, client certificate ${cert}` : 'TLS',
          `server CA ${ca ?? "the system's roots"}`,
          ...(config.TEMPORAL_TLS_SERVER_NAME ? [`server name ${config.TEMPORAL_TLS_SERVER_NAME}`] : []),
        ].join(', ');
  const key = config.TEMPORAL_API_KEY ? ', API key' : '';
  return `${config.TEMPORAL_ADDRESS}, namespace ${config.TEMPORAL_NAMESPACE} (${how}${key})`;
}

/**
 * Connects with `connect`, and on failure says where to and how before the SDK's own reason (a TLS
 * refusal otherwise reads as a bare transport error or a deadline).
 */
export async function connectToTemporal<T>(
  config: TemporalConfig & Pick<Config, 'TEMPORAL_NAMESPACE'>,
  connect: () => Promise<T>,
): Promise<T> {
  try {
    return await connect();
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`cannot connect to Temporal at ${describeTemporalTarget(config)}: ${reason}`, {
      cause: err,
    });
  }
}

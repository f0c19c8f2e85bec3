import { readFileSync, writeFileSync } from 'node:fs';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { temporalConnectionOptions } from '../../core/adapters/temporal/connection.options';
import { parseConfig } from '../../core/config';
import { connectTemporal } from '../../sdk/connection';
import { makeTestPki, startTlsProxy, type TestPki, type TlsProxy } from '../support/tls-proxy';

// `temporal server start-dev` has no TLS flags, so the test's dev server gets a TLS-terminating
// proxy on loopback (client certificates required) with a CA made here by openssl
// (test/support/tls-proxy.ts). Through it, the options every process builds from configuration (env
// names and a TOML profile) must connect with mTLS, and a certificate of another CA must be refused.

let pki: TestPki;
let proxy: TlsProxy;
let proxyPort = 0;
const file = (name: string) => pki.file(name);

beforeAll(async () => {
  pki = makeTestPki();
  proxy = await startTlsProxy(pki, process.env.TEMPORAL_ADDRESS ?? '');
  proxyPort = proxy.port;
});

afterAll(async () => {
  await proxy?.close();
  pki?.remove();
});

/** Connects both ways every process does (client and native) and asks the server something. */
/** The native connection alone (the workers'): its error says what went wrong in TLS. */
async function reachNative(env: Record<string, string>) {
  const config = parseConfig({ TEMPORAL_ADDRESS: `localhost:${proxyPort}`, ...env });
  const native = await NativeConnection.connect(temporalConnectionOptions(config));
  await native.close();
}

async function reach(env: Record<string, string>) {
  const config = parseConfig({ TEMPORAL_ADDRESS: `localhost:${proxyPort}`, ...env });
  const options = { ...temporalConnectionOptions(config), connectTimeout: '5 seconds' as const };
  const client = await Connection.connect(options);
  try {
    const { capabilities } = await client.workflowService.getSystemInfo({});
    expect(capabilities).toBeDefined();
    const namespace = await client.workflowService.describeNamespace({
      namespace: config.TEMPORAL_NAMESPACE,
    });
    expect(namespace.namespaceInfo?.name).toBe(config.TEMPORAL_NAMESPACE);
  } finally {
    await client.close();
  }
  const native = await NativeConnection.connect(temporalConnectionOptions(config));
  try {
    const info = await native.workflowService.getSystemInfo({});
    expect(info.capabilities).toBeDefined();
  } finally {
    await native.close();
  }
}

describe('Temporal over mTLS from configuration', () => {
  it('connects with a client certificate and a private CA given as files', async () => {
    await reach({
      TEMPORAL_TLS_CLIENT_CERT_PATH: file('client.crt'),
      TEMPORAL_TLS_CLIENT_KEY_PATH: file('client.key'),
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('ca.crt'),
    });
  });

  it('connects with the same material inline, from a TOML profile (TEMPORAL_CONFIG_FILE)', async () => {
    const pem = (name: string) => JSON.stringify(readFileSync(file(name), 'utf8'));
    writeFileSync(
      file('temporal.toml'),
      [
        '[profile.tls-proxy]',
        `address = "127.0.0.1:${proxyPort}"`,
        '[profile.tls-proxy.tls]',
        `client_cert_data = ${pem('client.crt')}`,
        `client_key_data = ${pem('client.key')}`,
        `server_ca_cert_data = ${pem('ca.crt')}`,
        // The certificate names localhost; the address is an IP it also carries, the name is checked.
        'server_name = "localhost"',
      ].join('\n'),
    );
    const config = parseConfig({
      TEMPORAL_CONFIG_FILE: file('temporal.toml'),
      TEMPORAL_PROFILE: 'tls-proxy',
    });
    expect(config.TEMPORAL_ADDRESS).toBe(`127.0.0.1:${proxyPort}`);
    const native = await NativeConnection.connect(temporalConnectionOptions(config));
    try {
      expect((await native.workflowService.getSystemInfo({})).capabilities).toBeDefined();
    } finally {
      await native.close();
    }
  });

  const rogue = () => ({
    TEMPORAL_TLS_CLIENT_CERT_PATH: file('rogue-client.crt'),
    TEMPORAL_TLS_CLIENT_KEY_PATH: file('rogue-client.key'),
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('ca.crt'),
  });

  it('is refused with a certificate of another CA: nothing reaches Temporal', async () => {
    const before = proxy.forwarded();
    // TLS 1.3 checks the client's certificate after the client's side of the handshake: the worker
    // sees the connection dropped (a broken pipe, a closed connection or the alert, whichever it reads
    // first: the wording varies); the API's client (grpc-js) retries until its deadline.
    await expect(reachNative(rogue())).rejects.toMatchObject({ name: 'TransportError' });
    const options = {
      ...temporalConnectionOptions(parseConfig({ TEMPORAL_ADDRESS: `localhost:${proxyPort}`, ...rogue() })),
    };
    await expect(Connection.connect({ ...options, connectTimeout: '3 seconds' })).rejects.toThrow(
      /Failed to connect before the deadline/,
    );
    expect(proxy.forwarded()).toBe(before);
  });

  it('says where to and how when a process cannot connect (the SDK module path as the workers)', async () => {
    const config = parseConfig({
      TEMPORAL_ADDRESS: `localhost:${proxyPort}`,
      TEMPORAL_NAMESPACE: 'rpa',
      ...rogue(),
    });
    await expect(connectTemporal(config)).rejects.toThrow(
      `cannot connect to Temporal at localhost:${proxyPort}, namespace rpa (mTLS, client certificate ${file('rogue-client.crt')}, server CA ${file('ca.crt')}): `,
    );
  });

  it('is refused without a client certificate: nothing reaches Temporal', async () => {
    const before = proxy.forwarded();
    await expect(reachNative({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('ca.crt') })).rejects.toMatchObject({
      name: 'TransportError',
    });
    expect(proxy.forwarded()).toBe(before);
  });

  it("refuses a server whose certificate the trusted CA did not sign (here: the system's roots)", async () => {
    await expect(
      reachNative({
        TEMPORAL_TLS: 'true',
        TEMPORAL_TLS_CLIENT_CERT_PATH: file('client.crt'),
        TEMPORAL_TLS_CLIENT_KEY_PATH: file('client.key'),
      }),
    ).rejects.toThrow(/InvalidCertificate\(UnknownIssuer\)/);
  });
});

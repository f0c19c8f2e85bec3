import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { temporalConnectionOptions } from '../../core/adapters/temporal/connection.options';
import { parseConfig } from '../../core/config';
import { connectTemporal } from '../../sdk/connection';

// `temporal server start-dev` has no TLS flags, so the test's dev server gets a TLS-terminating
// proxy on loopback (node:tls, client certificates required, ALPN h2 as gRPC needs) with a CA made
// here by openssl. Through it, the options every process builds from configuration (env names and a
// TOML profile) must connect with mTLS, and a certificate of another CA must be refused.

const dir = mkdtempSync(path.join(tmpdir(), 'rpa-mtls-'));
const file = (name: string) => path.join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

/** A CA (key + self-signed certificate) named `name`. */
function makeCa(name: string) {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
  );
}

/** A leaf key + certificate signed by `ca`, for a server (SAN localhost) or a client. */
function makeLeaf(name: string, ca: string, usage: 'serverAuth' | 'clientAuth') {
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
  );
  writeFileSync(
    file(`${name}.ext`),
    `extendedKeyUsage=${usage}\n${usage === 'serverAuth' ? 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' : ''}`,
  );
  openssl(
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.crt`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.crt`,
  );
}

const devServer = process.env.TEMPORAL_ADDRESS ?? '';
let proxy: tls.Server;
let proxyPort = 0;
let forwarded = 0;
const sockets = new Set<net.Socket>();

beforeAll(async () => {
  makeCa('ca');
  makeCa('rogue-ca');
  makeLeaf('server', 'ca', 'serverAuth');
  makeLeaf('client', 'ca', 'clientAuth');
  makeLeaf('rogue-client', 'rogue-ca', 'clientAuth');
  const [host, port] = devServer.split(':');
  proxy = tls.createServer(
    {
      key: readFileSync(file('server.key')),
      cert: readFileSync(file('server.crt')),
      ca: readFileSync(file('ca.crt')),
      requestCert: true,
      rejectUnauthorized: true, // as a Temporal frontend with requireClientAuth
      ALPNProtocols: ['h2'],
    },
    (socket) => {
      forwarded += 1; // only a client whose certificate the CA signed gets here
      const upstream = net.connect(Number(port), host);
      sockets.add(socket).add(upstream);
      socket.pipe(upstream).pipe(socket);
      const close = () => {
        socket.destroy();
        upstream.destroy();
      };
      socket.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    },
  );
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyPort = (proxy.address() as net.AddressInfo).port;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => proxy.close(resolve));
  rmSync(dir, { recursive: true, force: true });
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

  const rogue = {
    TEMPORAL_TLS_CLIENT_CERT_PATH: file('rogue-client.crt'),
    TEMPORAL_TLS_CLIENT_KEY_PATH: file('rogue-client.key'),
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('ca.crt'),
  };

  it('is refused with a certificate of another CA: nothing reaches Temporal', async () => {
    const before = forwarded;
    // TLS 1.3 checks the client's certificate after the client's side of the handshake: the worker
    // sees the connection dropped (a broken pipe, a closed connection or the alert, whichever it reads
    // first: the wording varies); the API's client (grpc-js) retries until its deadline.
    await expect(reachNative(rogue)).rejects.toMatchObject({ name: 'TransportError' });
    const options = {
      ...temporalConnectionOptions(parseConfig({ TEMPORAL_ADDRESS: `localhost:${proxyPort}`, ...rogue })),
    };
    await expect(Connection.connect({ ...options, connectTimeout: '3 seconds' })).rejects.toThrow(
      /Failed to connect before the deadline/,
    );
    expect(forwarded).toBe(before);
  });

  it('says where to and how when a process cannot connect (the SDK module path as the workers)', async () => {
    const config = parseConfig({
      TEMPORAL_ADDRESS: `localhost:${proxyPort}`,
      TEMPORAL_NAMESPACE: 'rpa',
      ...rogue,
    });
    await expect(connectTemporal(config)).rejects.toThrow(
      `cannot connect to Temporal at localhost:${proxyPort}, namespace rpa (mTLS, client certificate ${file('rogue-client.crt')}, server CA ${file('ca.crt')}): `,
    );
  });

  it('is refused without a client certificate: nothing reaches Temporal', async () => {
    const before = forwarded;
    await expect(reachNative({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('ca.crt') })).rejects.toMatchObject({
      name: 'TransportError',
    });
    expect(forwarded).toBe(before);
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

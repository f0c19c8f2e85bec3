import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';

// `temporal server start-dev` has no TLS flags, so a test that needs a TLS cluster puts a
// TLS-terminating proxy on loopback in front of the dev server (node:tls, client certificates
// required, ALPN h2 as gRPC needs), with CAs made by openssl in a temporary directory.

/** Certificates in a temporary directory: `file('client.crt')` etc. */
export interface TestPki {
  dir: string;
  file(name: string): string;
  remove(): void;
}

/**
 * CA `ca` with a server certificate (SAN localhost, 127.0.0.1) and a client certificate, and CA
 * `rogue-ca` with a client certificate `rogue-client` that `ca` did not sign.
 */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), 'rpa-mtls-'));
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const makeCa = (name: string) =>
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
  const makeLeaf = (name: string, ca: string, usage: 'serverAuth' | 'clientAuth') => {
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
  };
  makeCa('ca');
  makeCa('rogue-ca');
  makeLeaf('server', 'ca', 'serverAuth');
  makeLeaf('client', 'ca', 'clientAuth');
  makeLeaf('rogue-client', 'rogue-ca', 'clientAuth');
  return { dir, file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface TlsProxy {
  port: number;
  /** Connections that passed the handshake (a client certificate `ca` signed) and were forwarded. */
  forwarded(): number;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (a free port) and forwards each mTLS connection to `upstream` (host:port). */
export async function startTlsProxy(pki: TestPki, upstream: string): Promise<TlsProxy> {
  const [host, port] = upstream.split(':');
  let forwarded = 0;
  const sockets = new Set<net.Socket>();
  const proxy = tls.createServer(
    {
      key: readFileSync(pki.file('server.key')),
      cert: readFileSync(pki.file('server.crt')),
      ca: readFileSync(pki.file('ca.crt')),
      requestCert: true,
      rejectUnauthorized: true, // as a Temporal frontend with requireClientAuth
      ALPNProtocols: ['h2'],
    },
    (socket) => {
      forwarded += 1; // only a client whose certificate the CA signed gets here
      const upstreamSocket = net.connect(Number(port), host);
      sockets.add(socket).add(upstreamSocket);
      socket.pipe(upstreamSocket).pipe(socket);
      const close = () => {
        socket.destroy();
        upstreamSocket.destroy();
      };
      socket.on('error', close).on('close', close);
      upstreamSocket.on('error', close).on('close', close);
    },
  );
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    port: (proxy.address() as net.AddressInfo).port,
    forwarded: () => forwarded,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => proxy.close(resolve));
    },
  };
}

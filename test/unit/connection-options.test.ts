import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  describeTemporalTarget,
  temporalConnectionOptions,
} from '../../core/adapters/temporal/connection.options';
import { parseConfig } from '../../core/config';

// Temporal connection settings shared by the API, the workers and SDK modules: plain, TLS, mTLS,
// a private CA, an API key (Temporal Cloud).

const dir = mkdtempSync(path.join(tmpdir(), 'rpa-tls-'));
const file = (name: string, text: string) => {
  writeFileSync(path.join(dir, name), text);
  return path.join(dir, name);
};
const cert = file('client.crt', 'CERT');
const key = file('client.key', 'KEY');
const ca = file('ca.pem', 'CA');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const options = (env: Record<string, string>) => temporalConnectionOptions(parseConfig(env));

describe('temporalConnectionOptions', () => {
  it('connects in plain text by default', () => {
    expect(options({ TEMPORAL_ADDRESS: 'temporal:7233' })).toEqual({ address: 'temporal:7233' });
  });

  it('uses TLS with the system roots when asked, or with an API key', () => {
    expect(options({ TEMPORAL_TLS: 'true' }).tls).toBe(true);
    expect(options({ TEMPORAL_API_KEY: 'k' })).toMatchObject({ tls: true, apiKey: 'k' });
  });

  it('presents a client certificate (mTLS) and trusts a private CA', () => {
    const { tls } = options({
      TEMPORAL_TLS_CERT_PATH: cert,
      TEMPORAL_TLS_KEY_PATH: key,
      TEMPORAL_TLS_CA_PATH: ca,
    });
    expect(tls).toEqual({
      clientCertPair: { crt: Buffer.from('CERT'), key: Buffer.from('KEY') },
      serverRootCACertificate: Buffer.from('CA'),
    });
  });

  it("takes Temporal's names, files or inline PEM, and a server name", () => {
    const { tls } = options({
      TEMPORAL_TLS_CLIENT_CERT_DATA: 'INLINE CERT',
      TEMPORAL_TLS_CLIENT_KEY_PATH: key,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    expect(tls).toEqual({
      clientCertPair: { crt: Buffer.from('INLINE CERT'), key: Buffer.from('KEY') },
      serverRootCACertificate: Buffer.from('CA'),
      serverNameOverride: 'temporal.internal',
    });
  });

  it('stays in plain text with TEMPORAL_TLS=false, even with an API key', () => {
    expect(options({ TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'k' })).toEqual({
      address: '127.0.0.1:7233',
      apiKey: 'k',
    });
  });

  it('fails clearly when a named file is not there', () => {
    expect(() =>
      options({
        TEMPORAL_TLS_CLIENT_CERT_PATH: path.join(dir, 'nope.crt'),
        TEMPORAL_TLS_CLIENT_KEY_PATH: key,
      }),
    ).toThrow(/ENOENT.*nope\.crt/);
  });

  it('trusts a private CA without a client certificate', () => {
    expect(options({ TEMPORAL_TLS_CA_PATH: ca }).tls).toEqual({ serverRootCACertificate: Buffer.from('CA') });
  });
});

describe('describeTemporalTarget (connection errors)', () => {
  const describeEnv = (env: Record<string, string>) => describeTemporalTarget(parseConfig(env));

  it('says plain text, TLS or mTLS, where the material comes from, and never a secret', () => {
    expect(describeEnv({})).toBe('127.0.0.1:7233, namespace default (plain text)');
    const cloud = describeEnv({ TEMPORAL_ADDRESS: 'x.tmprl.cloud:7233', TEMPORAL_API_KEY: 'secret-key' });
    expect(cloud).toBe("x.tmprl.cloud:7233, namespace default (TLS, server CA the system's roots, API key)");
    expect(cloud).not.toContain('secret-key');
    expect(
      describeEnv({
        TEMPORAL_TLS_CLIENT_CERT_DATA: 'PEM',
        TEMPORAL_TLS_CLIENT_KEY_PATH: key,
        TEMPORAL_TLS_CA_PATH: ca,
      }),
    ).toBe(`127.0.0.1:7233, namespace default (mTLS, client certificate inline PEM, server CA ${ca})`);
  });
});

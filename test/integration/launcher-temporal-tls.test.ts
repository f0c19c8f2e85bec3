import { mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { LocalStack } from '../../cli/launcher/local-stack';
import { DEFAULT_RESTART_POLICY } from '../../cli/launcher/restart-policy';
import { onThisMachine, startTemporal, type TemporalAt } from '../../cli/launcher/services';
import { Supervisor } from '../../cli/launcher/supervisor';
import { parseConfig } from '../../core/config';
import { launcherHarness, listening } from '../support/launcher-harness';
import { makeTestPki, startTlsProxy, type TestPki, type TlsProxy } from '../support/tls-proxy';

// The launcher's Temporal step when TLS or an API key is configured: it must reach that cluster with
// the client and the built options (the plain health check cannot speak TLS), and when it does not
// answer, stop with an error instead of starting a local dev server in its place. The cluster is the
// run's dev server behind a TLS proxy that requires client certificates (test/support/tls-proxy.ts).

// Where a dev server would come up if the launcher started one: nothing may listen there.
const ports = { api: 3365, temporal: 7306, ui: 8306, pglite: 5466 };
const harness = launcherHarness(ports);

let pki: TestPki;
let proxy: TlsProxy;
let dataDir: string;

beforeAll(async () => {
  pki = makeTestPki();
  proxy = await startTlsProxy(pki, process.env.TEMPORAL_ADDRESS ?? '');
  dataDir = mkdtempSync(path.join(tmpdir(), 'rpa-launcher-tls-'));
});

afterEach(harness.killLeftovers);

afterAll(async () => {
  await proxy?.close();
  pki?.remove();
  rmSync(dataDir, { recursive: true, force: true });
  harness.removeDataDirs();
});

const mtls = (client: 'client' | 'rogue-client') => ({
  TEMPORAL_TLS_CLIENT_CERT_PATH: pki.file(`${client}.crt`),
  TEMPORAL_TLS_CLIENT_KEY_PATH: pki.file(`${client}.key`),
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.file('ca.crt'),
});

/** The launcher's Temporal step on its own, with what it was handed and what it started. */
async function temporalStep(env: Record<string, string>) {
  const config = parseConfig({
    TEMPORAL_DEV_PORT: String(ports.temporal),
    TEMPORAL_UI_PORT: String(ports.ui),
    TEMPORAL_UI_URL: 'https://temporal-ui.example.com',
    ...env,
  });
  const failures: string[] = [];
  const announced: TemporalAt[] = [];
  const stack = new LocalStack(new Supervisor(DEFAULT_RESTART_POLICY, { log: () => {}, fail: () => {} }));
  const started = Date.now();
  const result = await startTemporal(
    config,
    dataDir,
    stack,
    (message) => failures.push(message),
    (at) => announced.push(at),
    new AbortController().signal,
  ).then(
    (at) => ({ at, error: undefined }),
    (err: unknown) => ({ at: undefined, error: err as Error }),
  );
  await stack.stop();
  return {
    ...result,
    seconds: (Date.now() - started) / 1000,
    failures,
    announced,
    devServerStarted: stack.temporal !== null,
    devPortsOpen: [await listening(ports.temporal), await listening(ports.ui)],
  };
}

describe("the launcher's Temporal step with TLS configured", () => {
  it('uses the TLS cluster when it answers, through the client with the configured certificate', async () => {
    const before = proxy.forwarded();
    const address = `localhost:${proxy.port}`;
    const step = await temporalStep({ TEMPORAL_ADDRESS: address, ...mtls('client') });
    expect(step.error).toBeUndefined();
    expect(step.at).toEqual({ address, uiUrl: 'https://temporal-ui.example.com' });
    expect(step.announced).toEqual([step.at]);
    expect(proxy.forwarded()).toBeGreaterThan(before);
    expect({ started: step.devServerStarted, open: step.devPortsOpen }).toEqual({
      started: false,
      open: [false, false],
    });
  });

  it('stops with an error naming the address and TLS when the certificate is refused, starting no dev server', async () => {
    const before = proxy.forwarded();
    const address = `localhost:${proxy.port}`;
    const step = await temporalStep({ TEMPORAL_ADDRESS: address, ...mtls('rogue-client') });
    expect(step.error?.message).toContain(
      `Temporal at ${address}, namespace default (mTLS, client certificate ${pki.file('rogue-client.crt')}, server CA ${pki.file('ca.crt')}) did not answer within 5 seconds`,
    );
    expect(step.error?.message).toMatch(
      /TLS or an API key is configured .* so no local dev server is started/,
    );
    expect(step.announced).toEqual([]);
    expect(proxy.forwarded()).toBe(before);
    expect({ started: step.devServerStarted, open: step.devPortsOpen }).toEqual({
      started: false,
      open: [false, false],
    });
    // The connect timeout bounds the wait.
    expect(step.seconds).toBeLessThan(15);
  });

  it('stops the same way when nothing answers at the address (TLS with the system roots)', async () => {
    const step = await temporalStep({ TEMPORAL_ADDRESS: '127.0.0.1:9', TEMPORAL_TLS: 'true' });
    expect(step.error?.message).toContain(
      "Temporal at 127.0.0.1:9, namespace default (TLS, server CA the system's roots) did not answer within 5 seconds",
    );
    expect({ started: step.devServerStarted, open: step.devPortsOpen }).toEqual({
      started: false,
      open: [false, false],
    });
  });

  it('with only an API key configured, never falls back to the dev server either', async () => {
    // An API key turns TLS on (Temporal's environment configuration): the plain dev server behind
    // TEMPORAL_ADDRESS does not speak it.
    const step = await temporalStep({
      TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS ?? '',
      TEMPORAL_API_KEY: 'not-a-real-key',
    });
    expect(step.error?.message).toMatch(
      /did not answer within 5 seconds: .*\n.*TLS or an API key is configured/,
    );
    expect(step.error?.message).toContain("(TLS, server CA the system's roots, API key)");
    expect(step.devServerStarted).toBe(false);
  });

  it('names the file when configured TLS material cannot be read', async () => {
    const missing = path.join(dataDir, 'missing.crt');
    const step = await temporalStep({
      TEMPORAL_ADDRESS: `localhost:${proxy.port}`,
      ...mtls('client'),
      TEMPORAL_TLS_CLIENT_CERT_PATH: missing,
    });
    expect(step.error?.message).toMatch(
      new RegExp(
        `the TLS material configured for Temporal at localhost:${proxy.port} cannot be read: ENOENT.*${missing}`,
      ),
    );
    expect(step.devServerStarted).toBe(false);
  });
});

/** A closed port on an address of this machine that is not loopback (its own interface). */
function ownAddressClosedPort(): string {
  const address = Object.values(networkInterfaces())
    .flat()
    .find((info) => info && !info.internal && info.family === 'IPv4')?.address;
  if (!address) throw new Error('this machine has no IPv4 address besides loopback to test with');
  // Port 9 (discard): nothing listens there; the connection stays on this machine.
  return `${address}:9`;
}

describe("the launcher's Temporal step without TLS", () => {
  it('starts no dev server in place of another host that does not answer', async () => {
    const address = ownAddressClosedPort();
    const step = await temporalStep({ TEMPORAL_ADDRESS: address });
    expect(step.error?.message).toContain(`Temporal at ${address} (TEMPORAL_ADDRESS) did not answer`);
    expect(step.error?.message).toContain('it names another host, so no local dev server is started');
    expect({ started: step.devServerStarted, open: step.devPortsOpen }).toEqual({
      started: false,
      open: [false, false],
    });
  });

  it('only loopback addresses may be stood in for by a dev server', () => {
    for (const local of ['127.0.0.1:7233', 'localhost:7233', '[::1]:7233', '127.1.2.3:7000', '0.0.0.0:7233'])
      expect({ local, here: onThisMachine(local) }).toEqual({ local, here: true });
    for (const remote of [
      '10.0.0.5:7233',
      'temporal.internal:7233',
      '[2001:db8::1]:7233',
      'rpa.a1b2c.tmprl.cloud:7233',
    ])
      expect({ remote, here: onThisMachine(remote) }).toEqual({ remote, here: false });
  });
});

describe('`rpa start` with TLS configured and a refused certificate', () => {
  it('exits 1 with the message, having started no dev server and left no process behind', async () => {
    const launcher = harness.launch(harness.newDataDir(), {
      args: ['--no-demo'],
      env: {
        TEMPORAL_ADDRESS: `localhost:${proxy.port}`,
        ...mtls('rogue-client'),
        // The run's bundle: no bundler child to stop.
        WORKFLOW_BUNDLE_PATH: process.env.WORKFLOW_BUNDLE_PATH ?? '',
      },
    });
    const { code } = await launcher.exited;
    const output = launcher.output();
    expect({ code, output }).toEqual({ code: 1, output });
    expect(output).toContain(`✗ Temporal at localhost:${proxy.port}, namespace default (mTLS`);
    expect(output).toContain('so no local dev server is started in its place');
    expect(output).not.toContain('starting the Temporal dev server');
    expect(output).toMatch(/stopped\n$/);
    await harness.expectNothingLeft(launcher);
  });
});

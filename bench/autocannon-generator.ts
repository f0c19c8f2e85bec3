// The load generator, a process of its own (bench/autocannon.ts spawns it): one autocannon run as
// CANNON_SPEC describes, its result as one JSON line on stdout. Apart from the server it measures,
// so that its own queueing never shows up as the server's latency.
//
// Why autocannon's programmatic API here and not its CLI: the CLI's latencies come from an HDR
// histogram of whole milliseconds, too coarse beside a baseline that answers in 0.3 ms; the `response`
// event gives each request's time with sub-ms resolution. The CLI's own (whole-ms, coordinated-omission
// corrected) figures are kept beside ours in `autocannon`.
import type { CannonRequest, CannonResult, CannonSpec, GeneratorOutput } from './autocannon';

type Autocannon = (options: object) => NodeJS.EventEmitter & PromiseLike<CannonResult> & { stop(): void };
// autocannon 8 ships no types.
const autocannon = require('autocannon') as Autocannon;

async function main(): Promise<void> {
  const spec = JSON.parse(process.env.CANNON_SPEC ?? '') as CannonSpec;
  const output: GeneratorOutput = {
    latencies: [],
    errors: [],
    wallMs: 0,
    headerCounts: {},
    autocannon: null,
  };
  const countHeader = spec.countHeader?.toLowerCase();
  const onResponse = (_status: number, _body: string, _context: object, headers: Record<string, unknown>) => {
    if (!countHeader) return;
    const value = String(headers[countHeader] ?? '(none)');
    output.headerCounts[value] = (output.headerCounts[value] ?? 0) + 1;
  };
  const requests: CannonRequest[] = spec.paths.map((path) => ({
    method: 'GET',
    path,
    headers: spec.headers,
    onResponse,
  }));
  // Each connection starts at its own offset in the list, so that all of them do not read the same
  // key at the same moment.
  const stride = Math.max(1, Math.ceil(requests.length / spec.connections));
  let clients = 0;
  const instance = autocannon({
    url: spec.url,
    connections: spec.connections,
    overallRate: spec.rate,
    duration: spec.seconds,
    requests,
    setupClient: (client: { setRequests(requests: CannonRequest[]): void }) => {
      const offset = (clients++ * stride) % requests.length;
      client.setRequests([...requests.slice(offset), ...requests.slice(0, offset)]);
    },
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status >= 200 && status <= 299) output.latencies.push(ms);
    else output.errors.push(`HTTP ${status}`);
  });
  process.once('SIGTERM', () => instance.stop());
  const result = await instance;
  output.wallMs = result.duration * 1000;
  if (result.errors > 0) output.errors.push(`${result.errors} connection errors`);
  if (result.timeouts > 0) output.errors.push(`${result.timeouts} timeouts`);
  const { average, p50, p90, p99, max } = result.latency;
  output.autocannon = {
    requests: result.requests.total,
    non2xx: result.non2xx,
    latency: { average, p50, p90, p99, max },
  };
  process.stdout.write(`${JSON.stringify(output)}\n`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exitCode = 1;
});

import type { ChaosCluster } from './cluster';

// A dependency away (Temporal, Redis, Postgres) is an outage the API answers with 503 and
// Retry-After, never a 500: a 500 says the API itself broke, and counts against its error budget.
// Read from each API process's own request histogram, so nothing a client saw is missed.

/** Requests each API process answered 500, by route (`METHOD route`), summed over the processes. */
export async function internalErrors(cluster: ChaosCluster): Promise<Record<string, number>> {
  const found: Record<string, number> = {};
  for (const url of cluster.apiUrls) {
    const res = await fetch(`${url}/metrics`, {
      headers: { authorization: `Bearer ${cluster.adminKey}` },
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status !== 200) throw new Error(`${url}/metrics answered ${res.status}`);
    for (const line of (await res.text()).split('\n')) {
      if (!line.startsWith('rpa_http_request_duration_seconds_count{')) continue;
      const labels = Object.fromEntries(
        [...line.matchAll(/(\w+)="([^"]*)"/g)].map((match) => [match[1], match[2]]),
      );
      if (labels.status !== '500') continue;
      const route = `${labels.method} ${labels.route}`;
      found[route] = (found[route] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return found;
}

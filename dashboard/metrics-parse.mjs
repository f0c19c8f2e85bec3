// Prometheus text exposition (format 0.0.4) parsing and the arithmetic the charts need.
// Plain ES module with no DOM use: the browser imports it, and jest imports it through swc.

/**
 * Parses Prometheus text into samples. Comments (# HELP, # TYPE) are skipped; a timestamp after
 * the value is ignored; label values may hold escaped quotes, backslashes and newlines.
 * @param {string} text
 * @returns {{ name: string, labels: Record<string, string>, value: number }[]}
 */
export function parsePrometheusText(text) {
  const samples = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const sample = parseSampleLine(line);
    if (sample) samples.push(sample);
  }
  return samples;
}

/** @param {string} line */
function parseSampleLine(line) {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!nameMatch) return null;
  const name = nameMatch[0];
  let rest = line.slice(name.length);
  /** @type {Record<string, string>} */
  const labels = {};
  if (rest.startsWith('{')) {
    const parsed = parseLabels(rest);
    if (!parsed) return null;
    Object.assign(labels, parsed.labels);
    rest = rest.slice(parsed.length);
  }
  const valueText = rest.trim().split(/\s+/)[0] ?? '';
  const value = parseValue(valueText);
  if (value === null) return null;
  return { name, labels, value };
}

/**
 * Reads `{a="x",b="y"}` from the start of `text`.
 * @param {string} text
 * @returns {{ labels: Record<string, string>, length: number } | null}
 */
function parseLabels(text) {
  /** @type {Record<string, string>} */
  const labels = {};
  let i = 1;
  while (i < text.length) {
    while (text[i] === ' ' || text[i] === ',') i++;
    if (text[i] === '}') return { labels, length: i + 1 };
    const keyMatch = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i));
    if (!keyMatch) return null;
    const key = keyMatch[0];
    i += key.length;
    if (text[i] !== '=' || text[i + 1] !== '"') return null;
    i += 2;
    let value = '';
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') {
        const next = text[i + 1];
        value += next === 'n' ? '\n' : (next ?? '');
        i += 2;
      } else {
        value += text[i];
        i++;
      }
    }
    if (text[i] !== '"') return null;
    labels[key] = value;
    i++;
  }
  return null;
}

/** @param {string} text */
function parseValue(text) {
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  if (text === '') return null;
  const value = Number(text);
  return Number.isNaN(value) ? null : value;
}

/**
 * Sum of the samples named `name` whose labels pass `where`.
 * @param {{ name: string, labels: Record<string, string>, value: number }[]} samples
 * @param {string} name
 * @param {(labels: Record<string, string>) => boolean} [where]
 */
export function sumSamples(samples, name, where = () => true) {
  let total = 0;
  for (const sample of samples) {
    if (sample.name === name && where(sample.labels) && Number.isFinite(sample.value)) total += sample.value;
  }
  return total;
}

/**
 * Sums samples named `name` by the value of label `by` (e.g. robots by status).
 * @param {{ name: string, labels: Record<string, string>, value: number }[]} samples
 * @param {string} name
 * @param {string} by
 * @returns {Record<string, number>}
 */
export function sumBy(samples, name, by) {
  /** @type {Record<string, number>} */
  const totals = {};
  for (const sample of samples) {
    if (sample.name !== name || !Number.isFinite(sample.value)) continue;
    const key = sample.labels[by] ?? '';
    totals[key] = (totals[key] ?? 0) + sample.value;
  }
  return totals;
}

/**
 * Cumulative histogram buckets of `name` (the `<name>_bucket` series) summed over the series whose
 * labels pass `where`, sorted by upper bound; `le="+Inf"` is the total count.
 * @param {{ name: string, labels: Record<string, string>, value: number }[]} samples
 * @param {string} name
 * @param {(labels: Record<string, string>) => boolean} [where]
 * @returns {{ le: number, count: number }[]}
 */
export function histogramBuckets(samples, name, where = () => true) {
  /** @type {Map<number, number>} */
  const byBound = new Map();
  for (const sample of samples) {
    if (sample.name !== `${name}_bucket` || sample.labels.le === undefined || !where(sample.labels)) continue;
    const le = parseValue(sample.labels.le);
    if (le === null || Number.isNaN(le)) continue;
    byBound.set(le, (byBound.get(le) ?? 0) + sample.value);
  }
  return [...byBound.entries()].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
}

/**
 * Bucket counts of `current` minus those of `previous` (the requests between two scrapes). A
 * counter that went down means the process restarted: then `current` alone is the best we know.
 * @param {{ le: number, count: number }[]} current
 * @param {{ le: number, count: number }[]} previous
 */
export function bucketDelta(current, previous) {
  const before = new Map(previous.map((bucket) => [bucket.le, bucket.count]));
  const delta = current.map((bucket) => ({
    le: bucket.le,
    count: bucket.count - (before.get(bucket.le) ?? 0),
  }));
  return delta.some((bucket) => bucket.count < 0) ? current : delta;
}

/**
 * The q-quantile of cumulative buckets, interpolated linearly inside the bucket where it falls, as
 * PromQL's histogram_quantile does: it is an estimate whose error is bounded by the bucket width.
 * Returns null without observations; a quantile in the +Inf bucket is the highest finite bound.
 * @param {number} q between 0 and 1
 * @param {{ le: number, count: number }[]} buckets cumulative, sorted by `le`
 * @returns {number | null}
 */
export function histogramQuantile(q, buckets) {
  if (buckets.length === 0 || q < 0 || q > 1) return null;
  const last = buckets[buckets.length - 1];
  if (!last || last.le !== Number.POSITIVE_INFINITY) return null;
  const total = last.count;
  if (total <= 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const bucket of buckets) {
    if (bucket.count >= rank && bucket.count > lowerCount) {
      if (bucket.le === Number.POSITIVE_INFINITY) return lowerBound;
      const within = (rank - lowerCount) / (bucket.count - lowerCount);
      return lowerBound + (bucket.le - lowerBound) * within;
    }
    lowerBound = bucket.le;
    lowerCount = bucket.count;
  }
  return lowerBound;
}

/**
 * Per-second rate of a counter between two scrapes; a reset (the value fell) counts from zero.
 * @param {number} current
 * @param {number} previous
 * @param {number} seconds
 */
export function counterRate(current, previous, seconds) {
  if (seconds <= 0) return null;
  const increase = current >= previous ? current - previous : current;
  return increase / seconds;
}

/** Requests the latency and rate charts count: the /v1 API, without SSE streams (open for minutes). */
const isApiRoute = (/** @type {Record<string, string>} */ labels) =>
  typeof labels.route === 'string' && labels.route.startsWith('/v1') && !labels.route.endsWith('/events');

/**
 * One point of every chart from two consecutive scrapes of the API's /metrics.
 * @param {{ name: string, labels: Record<string, string>, value: number }[]} previous
 * @param {{ name: string, labels: Record<string, string>, value: number }[]} current
 * @param {number} seconds between the scrapes
 */
export function metricsPoint(previous, current, seconds) {
  const http = 'rpa_http_request_duration_seconds';
  const requestRate = counterRate(
    sumSamples(current, `${http}_count`, isApiRoute),
    sumSamples(previous, `${http}_count`, isApiRoute),
    seconds,
  );
  const buckets = bucketDelta(
    histogramBuckets(current, http, isApiRoute),
    histogramBuckets(previous, http, isApiRoute),
  );
  const p50 = histogramQuantile(0.5, buckets);
  const p99 = histogramQuantile(0.99, buckets);
  const cache = 'rpa_cache_requests_total';
  const hits =
    sumSamples(current, cache, (l) => l.result === 'hit') -
    sumSamples(previous, cache, (l) => l.result === 'hit');
  const lookups = sumSamples(current, cache) - sumSamples(previous, cache);
  return {
    requestRate,
    p50Ms: p50 === null ? null : p50 * 1000,
    p99Ms: p99 === null ? null : p99 * 1000,
    // No lookups in the interval (or a restart) leaves a gap rather than a misleading 0 or 100 %.
    cacheHitRatio: lookups > 0 && hits >= 0 ? hits / lookups : null,
    robotsByStatus: sumBy(current, 'rpa_robots', 'status'),
  };
}

// Samples the API's /metrics in the browser and draws the charts. Sampling runs on every view so
// the charts have history when opened; it pauses while the tab is hidden.

import { bars, sparkline } from './charts.mjs';
import { metricsPoint, parsePrometheusText } from './metrics-parse.mjs';

const SAMPLE_MS = 5000;
const KEEP = 60; // five minutes at one sample every 5 s

/**
 * @param {{ authHeaders: () => Record<string, string> }} api the key this page holds: with
 *   METRICS_TOKEN set, the API lets an admin key read /metrics. Sampling never asks for a key (it
 *   runs on every view); a refusal is shown in the view instead.
 */
export function startMetrics(api) {
  const container = /** @type {HTMLElement} */ (document.getElementById('charts'));
  const error = /** @type {HTMLElement} */ (document.getElementById('metrics-error'));
  /** @type {ReturnType<typeof metricsPoint>[]} */
  const series = [];
  /** @type {{ at: number, samples: ReturnType<typeof parsePrometheusText> } | null} */
  let previous = null;

  const render = () => {
    const pick = (key) => series.map((point) => point[key]);
    const latest = series.at(-1);
    container.replaceChildren(
      sparkline({
        id: 'chart-request-rate',
        title: 'API requests per second',
        points: pick('requestRate'),
        format: (value) => `${value.toFixed(2)}/s`,
        slots: KEEP,
      }),
      sparkline({
        id: 'chart-p50',
        title: 'Latency p50 (estimate)',
        points: pick('p50Ms'),
        format: ms,
        slots: KEEP,
      }),
      sparkline({
        id: 'chart-p99',
        title: 'Latency p99 (estimate)',
        points: pick('p99Ms'),
        format: ms,
        slots: KEEP,
      }),
      sparkline({
        id: 'chart-cache-hit',
        title: 'Cache hit ratio',
        points: pick('cacheHitRatio'),
        format: (value) => `${Math.round(value * 100)}%`,
        max: 1,
        slots: KEEP,
      }),
      bars({ id: 'chart-robots', title: 'Robots by status', values: latest?.robotsByStatus ?? {} }),
    );
  };

  const sample = async () => {
    try {
      const response = await fetch('/metrics', { headers: { accept: 'text/plain', ...api.authHeaders() } });
      if (response.status === 401 || response.status === 403)
        throw new Error('this server guards it (METRICS_TOKEN); use an API key with the admin scope');
      if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
      const samples = parsePrometheusText(await response.text());
      const at = performance.now();
      if (previous) {
        series.push(metricsPoint(previous.samples, samples, (at - previous.at) / 1000));
        if (series.length > KEEP) series.shift();
      }
      previous = { at, samples };
      error.textContent = '';
      render();
    } catch (err) {
      error.textContent = `Could not read /metrics: ${err.message}`;
    }
  };

  render();
  void sample();
  window.setInterval(() => {
    if (!document.hidden) void sample();
  }, SAMPLE_MS);
}

/** @param {number} value */
function ms(value) {
  return value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`;
}

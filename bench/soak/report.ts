import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { KeyShape, ResourceSample } from './resources';

// The soak's verdict on memory and its section of RELIABILITY.md.

/** RSS counts as flat when the last quarter's median is within this of the first quarter's. */
export const RSS_TOLERANCE = { fraction: 0.2, bytes: 32 * 2 ** 20 };

export interface RssRow {
  process: string;
  start: number;
  end: number;
  max: number;
  firstQuarterMedian: number;
  lastQuarterMedian: number;
  growth: number;
  flat: boolean;
  /** Only the system's own processes are judged: not the Temporal dev server, nor the load generator. */
  judged: boolean;
}

/** Processes measured for the record but not the system's own code. */
export const NOT_JUDGED = ['temporal', 'load generator'];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/**
 * Per process: first and last samples, the maximum, and the medians of the first and last quarter
 * of the samples taken under load (the drain after the last robot is created is not steady state).
 */
export function rssRows(samples: ResourceSample[]): RssRow[] {
  const labels = [...new Set(samples.flatMap((sample) => Object.keys(sample.rss)))];
  const load = samples.filter((sample) => sample.phase === 'load');
  const quarter = Math.max(1, Math.floor(load.length / 4));
  return labels.map((label) => {
    const values = (list: ResourceSample[]) =>
      list.map((sample) => sample.rss[label]).filter((value): value is number => value !== undefined);
    const all = values(samples);
    const first = median(values(load.slice(0, quarter)));
    const last = median(values(load.slice(-quarter)));
    const growth = last - first;
    return {
      process: label,
      start: all[0] ?? Number.NaN,
      end: all.at(-1) ?? Number.NaN,
      max: Math.max(...all),
      firstQuarterMedian: first,
      lastQuarterMedian: last,
      growth,
      flat: growth <= Math.max(RSS_TOLERANCE.bytes, first * RSS_TOLERANCE.fraction),
      judged: !NOT_JUDGED.includes(label),
    };
  });
}

export const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const signedMib = (bytes: number) => `${bytes >= 0 ? '+' : '−'}${mib(Math.abs(bytes))}`;

export interface SoakSummary {
  date: string;
  machine: string;
  smoke: boolean;
  robots: number;
  mix: Record<string, number>;
  rateAsked: number;
  load: { durationMs: number; achievedRate: number; retries: number; maxLagMs: number; createP99Ms: number };
  totalMs: number;
  drainMs: number;
  counts: Record<string, number>;
  lost: number;
  duplicated: number;
  /** Robots with a step attempt after the first: none is expected without faults. */
  retried: number;
  /** Robots still open when the drain gave up (none finished for minutes). */
  stalled: number;
  approvals: { approved: number; waitP50Ms: number; refused: number; refusals: string[] };
  rss: RssRow[];
  growth: {
    databaseBytes: number;
    tables: [string, number][];
    redisBytes: number;
    redisKeys: number;
    redisShapes: [string, KeyShape][];
    temporalFileBytes: number;
  };
}

export function renderSection(s: SoakSummary): string {
  const perRobot = (bytes: number) => `${Math.round(bytes / s.robots)} B/robot`;
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const lines = [
    `${s.smoke ? 'Smoke run' : 'Run'} of ${s.date} on ${s.machine}.`,
    '',
    `${s.robots} robots (${Object.entries(s.mix)
      .map(([kind, n]) => `${n} ${kind}`)
      .join(', ')}) created through the API by a load generator process at ${s.rateAsked}/s asked, ` +
      `${s.load.achievedRate}/s achieved over ${seconds(s.load.durationMs)} (create p99 ${s.load.createP99Ms} ms, ` +
      `${s.load.retries} retries, schedule lag at most ${s.load.maxLagMs} ms); the last robot finished ` +
      `${seconds(s.drainMs)} after the last was created; ${seconds(s.totalMs)} in all. ` +
      `${s.approvals.approved} approvals answered 202 through the API (wait p50 ${s.approvals.waitP50Ms} ms)${
        s.approvals.refused > 0
          ? `; ${s.approvals.refused} approve requests refused (${s.approvals.refusals.join(', ')}) and tried again`
          : ''
      }.`,
    '',
    `Invariants: ${Object.entries(s.counts)
      .map(([name, n]) => `${name} ${n}`)
      .join(
        ', ',
      )}; lost ${s.lost}, duplicated ${s.duplicated}, robots with a step retried ${s.retried}${s.stalled > 0 ? `, ${s.stalled} stalled at the end` : ''}.`,
    '',
    '| process | RSS start | RSS end | RSS max | first-quarter median | last-quarter median | growth | flat |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...s.rss.map(
      (row) =>
        `| ${row.process} | ${mib(row.start)} | ${mib(row.end)} | ${mib(row.max)} | ${mib(row.firstQuarterMedian)} | ${mib(row.lastQuarterMedian)} | ${signedMib(row.growth)} | ${row.judged ? (row.flat ? 'yes' : 'no') : `(${row.flat ? 'yes' : 'no'}, not judged)`} |`,
    ),
    '',
    `Flat: the last quarter's median within ${RSS_TOLERANCE.fraction * 100} % or ${mib(RSS_TOLERANCE.bytes)} of the first quarter's (samples under load); the Temporal dev server and the load generator are measured, not judged.`,
    '',
    `Postgres grew ${signedMib(s.growth.databaseBytes)} (${perRobot(s.growth.databaseBytes)}): ${s.growth.tables
      .map(([table, bytes]) => `${table} ${signedMib(bytes)} (${perRobot(bytes)})`)
      .join(', ')}; the rows are kept by design (robots and their step executions are the record).`,
    `Redis grew ${signedMib(s.growth.redisBytes)} and ${s.growth.redisKeys} keys (${perRobot(s.growth.redisBytes)}); keys at the end by shape: ${s.growth.redisShapes
      .map(([shape, { keys, expiring, maxTtlSeconds }]) => {
        const all = expiring === keys ? 'all' : String(expiring);
        const expiry = expiring === 0 ? 'no expiry' : `${all} expiring within ${maxTtlSeconds} s`;
        return `\`${shape}\` ${keys} (${expiry})`;
      })
      .join(', ')}.`,
    `The Temporal dev server's SQLite file grew ${signedMib(s.growth.temporalFileBytes)} (${perRobot(s.growth.temporalFileBytes)}: histories and visibility, kept for the namespace's retention).`,
  ];
  return lines.join('\n');
}

export const SOAK_BEGIN = '<!-- soak:begin -->';
export const SOAK_END = '<!-- soak:end -->';

/** Replaces the text between the soak markers of `file` (appends the section, or makes the file). */
export function writeSection(file: string, section: string): void {
  const block = `${SOAK_BEGIN}\n${section}\n${SOAK_END}`;
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Reliability\n';
  const start = current.indexOf(SOAK_BEGIN);
  const end = current.indexOf(SOAK_END);
  const next =
    start >= 0 && end > start
      ? `${current.slice(0, start)}${block}${current.slice(end + SOAK_END.length)}`
      : `${current.trimEnd()}\n\n## Soak\n\n${block}\n`;
  writeFileSync(file, next);
}

// `npm run bench`: every benchmark under bench/, one after the other, each in a process of its own
// (its servers and load generator in processes of theirs), then one table: each figure of issue 17
// beside its baseline from the same bench run, the ratio, the goal and whether it is met
// (bench/summary.ts). Each bench writes bench/results/<name>.json and rewrites its own section of
// BENCHMARKS.md; a complete run (no words) that succeeded also rewrites the summary between
// `<!-- summary:start -->` and `<!-- summary:end -->`, with the machine's description.
//   npm run bench -- [--smoke] [--out-dir DIR] [word …]
// `--smoke`: every bench in its smoke mode (seconds each; figures meaningless, BENCHMARKS.md untouched).
// Words run only the benches whose name contains one of them (`status health`); a word that matches
// none is an error. `--out-dir`: where the results JSON go instead of bench/results/.
// Exits non-zero when a bench failed.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type Results, summaryMarkdown, summaryRows, writeSummary } from '../bench/summary';

const root = path.resolve(__dirname, '..');

/** In the order; `name` is the results file's and the BENCHMARKS.md section's. */
const BENCHES = [
  { name: 'throughput', script: 'throughput.ts' },
  { name: 'api-create', script: 'api-create.ts' },
  { name: 'status', script: 'status.ts' },
  { name: 'health', script: 'health.ts' },
  { name: 'selection', script: 'selection.ts' },
  { name: 'ocr', script: 'ocr-native.ts' },
  { name: 'ocr-pages', script: 'ocr.ts' },
  // The launcher's dev server SQLite, default against WAL (ADR 0043); no row in the summary.
  { name: 'sqlite', script: 'dev-server-sqlite.ts' },
] as const;

function usageError(message: string): never {
  console.error(`${message}\nusage: npm run bench -- [--smoke] [--out-dir DIR] [word …]`);
  console.error(`benches: ${BENCHES.map((bench) => bench.name).join(', ')}`);
  process.exit(2);
}

const parsed = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: { smoke: { type: 'boolean' }, 'out-dir': { type: 'string' } },
    });
  } catch (err) {
    return usageError(err instanceof Error ? err.message : String(err));
  }
})();
const smoke = parsed.values.smoke === true;
const outDir = path.resolve(parsed.values['out-dir'] ?? path.join(root, 'bench', 'results'));
const words = parsed.positionals;
const unknown = words.filter((word) => !BENCHES.some((bench) => bench.name.includes(word)));
if (unknown.length > 0) usageError(`no bench matches: ${unknown.join(', ')}`);
const selected = BENCHES.filter(
  (bench) => words.length === 0 || words.some((word) => bench.name.includes(word)),
);
mkdirSync(outDir, { recursive: true });

const started = Date.now();
const results: Results = {};
const outcomes: { name: string; ok: boolean; seconds: number }[] = [];
for (const bench of selected) {
  const out = path.join(outDir, `${bench.name}${smoke ? '.smoke' : ''}.json`);
  console.log(`\n=== ${bench.name} (bench/${bench.script}${smoke ? ' --smoke' : ''}) ===`);
  const benchStarted = Date.now();
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join('bench', bench.script), ...(smoke ? ['--smoke'] : []), '--out', out],
    { cwd: root, stdio: 'inherit', env: process.env },
  );
  const ok = run.status === 0;
  outcomes.push({ name: bench.name, ok, seconds: Math.round((Date.now() - benchStarted) / 1000) });
  // A failed bench's file may be an older run's: its figures stay out of the table.
  if (ok) results[bench.name] = JSON.parse(readFileSync(out, 'utf8')) as unknown;
  else console.error(`${bench.name} failed (${run.status ?? run.signal})`);
}

const rows = summaryRows(results);
const table = summaryMarkdown(rows);
type Machine = { cpu: string; cores: number; memoryGiB: number; os: string; node: string };
const machine = (Object.values(results) as { machine?: Machine }[]).find((result) => result.machine)?.machine;
const describe = machine
  ? `${machine.cpu} (${machine.cores} cores, ${machine.memoryGiB} GiB RAM, ${machine.os}), Node ${machine.node}`
  : `${os.cpus()[0]?.model.trim() ?? 'unknown CPU'} (${os.cpus().length} cores), Node ${process.version}`;
const minutes = ((Date.now() - started) / 60_000).toFixed(1);
const took = outcomes
  .map(({ name, ok, seconds }) => `${name} ${seconds} s${ok ? '' : ' (failed)'}`)
  .join(', ');
const measured = `Measured ${new Date().toISOString()} on ${describe}; ${minutes} min in all (${took}).`;

console.log(`\nbench${smoke ? ' (smoke: figures mean nothing)' : ''}: ${measured}\n`);
console.log(table.join('\n'));
const summaryFile = path.join(outDir, `summary${smoke ? '.smoke' : ''}.json`);
writeFileSync(summaryFile, `${JSON.stringify({ smoke, measured, outcomes, rows }, null, 2)}\n`);
console.log(`\nsummary written to ${path.relative(process.cwd(), summaryFile)}`);

const failed = outcomes.filter((outcome) => !outcome.ok);
if (!smoke && words.length === 0 && failed.length === 0) {
  const benchmarks = path.join(root, 'BENCHMARKS.md');
  writeSummary(benchmarks, [measured, '', ...table]);
  console.log(`${path.relative(process.cwd(), benchmarks)} summary updated`);
} else if (!smoke) {
  console.log('BENCHMARKS.md summary left as it is: only a complete run without failures rewrites it');
}
if (failed.length > 0) {
  console.error(
    `${failed.length} of ${outcomes.length} benches failed: ${failed.map((f) => f.name).join(', ')}`,
  );
  process.exit(1);
}

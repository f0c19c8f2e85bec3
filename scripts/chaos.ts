// `npm run chaos`: the fault scenarios of test/chaos against real processes on loopback, then one
// table: scenario, robots, faults injected, lost, duplicated, recovery p50/p99. Short versions by
// default (the same ones `npm test` runs); `--full` runs the long versions and writes the table to
// RELIABILITY.md with the machine's description. Exits non-zero when a scenario failed, recorded no
// result, or lost or duplicated anything. `--results <dir>` renders (and with --full writes) the table of
// results already recorded there (CHAOS_RESULTS_DIR of earlier runs) instead of running anything.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { percentile, type RecordedResult } from '../test/chaos/support/report';

const root = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const full = args.includes('--full');
const resultsFrom = args.includes('--results') ? args[args.indexOf('--results') + 1] : undefined;
const only = args.filter((arg, i) => !arg.startsWith('--') && args[i - 1] !== '--results');
const mode = full ? 'full' : 'short';
const resultsDir = resultsFrom
  ? path.resolve(resultsFrom)
  : path.join(root, '.data', 'chaos', `${mode}-${Date.now()}`);
mkdirSync(resultsDir, { recursive: true });

const scenarioFiles = readdirSync(path.join(root, 'test', 'chaos'))
  .filter((file) => file.endsWith('.test.ts'))
  .filter((file) => only.length === 0 || only.some((name) => file.includes(name)))
  .map((file) => path.join('test', 'chaos', file));

const jest = resultsFrom
  ? { status: 0 }
  : spawnSync(
      process.execPath,
      [require.resolve('jest/bin/jest'), '--selectProjects', 'integration', '--runInBand', ...scenarioFiles],
      {
        cwd: root,
        stdio: 'inherit',
        env: { ...process.env, CHAOS_MODE: mode, CHAOS_RESULTS_DIR: resultsDir },
      },
    );

const results: RecordedResult[] = readdirSync(resultsDir)
  .filter((file) => file.endsWith('.json'))
  .map((file) => JSON.parse(readFileSync(path.join(resultsDir, file), 'utf8')) as RecordedResult)
  .sort((a, b) => a.scenario.localeCompare(b.scenario));

function ms(value: number | null): string {
  if (value === null) return '—';
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}

function table(rows: RecordedResult[]): string {
  const lines = [
    '| scenario | robots | faults injected | lost | duplicated | recovery p50 | recovery p99 | sinks | took |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |',
  ];
  for (const row of rows) {
    const sinks = Object.entries(row.sinks ?? {})
      .map(([name, count]) => `${name} ${count}`)
      .join(', ');
    lines.push(
      `| ${row.scenario} | ${row.robots} | ${row.faults} | ${row.lost} | ${row.duplicated} | ${ms(percentile(row.recoveryMs, 50))} | ${ms(percentile(row.recoveryMs, 99))} | ${sinks || '—'} | ${Math.round(row.durationMs / 1000)} s |`,
    );
  }
  const notes = rows.filter((row) => row.note).map((row) => `- **${row.scenario}**: ${row.note}`);
  return [...lines, ...(notes.length > 0 ? ['', ...notes] : [])].join('\n');
}

function machine(): string {
  const cpu = os.cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
  const memory = (os.totalmem() / 2 ** 30).toFixed(1);
  let temporal = 'unknown';
  for (const bin of [path.join(root, '.tools', 'bin', 'temporal'), 'temporal']) {
    try {
      temporal = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
      break;
    } catch {
      // try the next
    }
  }
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  return `${os.cpus().length} × ${cpu}, ${memory} GiB, ${os.type()} ${os.release()}, Node ${process.version}, ${temporal}, commit ${commit}`;
}

const rendered = table(results);
console.log(`\nchaos (${mode}): ${results.length} scenarios\n\n${rendered}\n`);

const expected = resultsFrom ? results.length : scenarioFiles.length;
const bad = results.filter((row) => row.lost > 0 || row.duplicated > 0);
if (full && results.length > 0) {
  const file = path.join(root, 'RELIABILITY.md');
  const begin = '<!-- chaos:full:begin -->';
  const end = '<!-- chaos:full:end -->';
  const section = `${begin}\nFull run of ${new Date().toISOString().slice(0, 10)} on ${machine()}.\n\n${rendered}\n${end}`;
  const current = existsSync(file) ? readFileSync(file, 'utf8') : `# Reliability\n\n${begin}\n${end}\n`;
  const next = current.includes(begin)
    ? current.replace(new RegExp(`${begin}[\\s\\S]*?${end}`), section)
    : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, next);
  console.log(`table written to ${path.relative(process.cwd(), file)}`);
}

if (jest.status !== 0 || results.length < expected || bad.length > 0) {
  console.error(
    `chaos failed: jest exit ${jest.status}, ${results.length} of ${expected} scenarios recorded, ${bad.length} with lost or duplicated robots`,
  );
  process.exit(1);
}

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.join(__dirname, '..', '..');

// The lint rule is the guard that keeps workflows deterministic; prove it bites.
describe('the workflows/ lint rule', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(root, 'workflows', 'lint-probe-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function lint(source: string): string {
    const file = path.join(dir, 'probe.ts');
    writeFileSync(file, source);
    const result = spawnSync(process.execPath, [require.resolve('@biomejs/biome/bin/biome'), 'lint', file], {
      cwd: root,
      encoding: 'utf8',
    });
    return result.stdout + result.stderr;
  }

  it.each([
    ["import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n", 'noNodejsModules'],
    ["import { Pool } from 'pg';\nexport const x = Pool;\n", 'noRestrictedImports'],
    [
      "import { createProgressActivities } from '../../activities/progress';\nexport const x = createProgressActivities;\n",
      'noRestrictedImports',
    ],
  ])('refuses %j', (source, rule) => {
    expect(lint(source)).toContain(rule);
  });

  it('allows activity types from activities/types', () => {
    const out = lint(
      "import type { ControlActivities } from '../../activities/types';\nexport type X = ControlActivities;\n",
    );
    expect(out).not.toContain('noRestrictedImports');
  });
});

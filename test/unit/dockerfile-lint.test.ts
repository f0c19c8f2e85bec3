import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from '../support/compose-file';

// The Dockerfile through BuildKit's own checks (what `docker build --check` reports), offline: no
// Docker engine runs where the tests run, so tools/dockerfile-lint runs them on the library that
// Docker builds with. npm test builds it (scripts/go-examples.js).

const lint = (
  require('../../scripts/go-examples.js') as { builtGoExample(name: string): string }
).builtGoExample('dockerfile-lint');

function lintFile(file: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(lint, [file], { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function lintText(text: string) {
  const dir = mkdtempSync(path.join(tmpdir(), 'rpa-dockerfile-'));
  try {
    writeFileSync(path.join(dir, 'Dockerfile'), text);
    return lintFile(path.join(dir, 'Dockerfile'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('Dockerfile through BuildKit', () => {
  test('every stage converts and no lint rule fires', () => {
    expect(lintFile(path.join(ROOT, 'Dockerfile'))).toEqual({ status: 0, stdout: '', stderr: '' });
  });

  test('what BuildKit refuses or warns about fails, naming the rule and line', () => {
    const unknown = lintText('FORM node:24\n');
    expect(unknown.status).toBe(1);
    expect(unknown.stdout).toContain('unknown instruction: FORM (did you mean FROM?)');
    const shellForm = lintText('FROM node:24 AS run\nCMD node bin/rpa\n');
    expect(shellForm.status).toBe(1);
    expect(shellForm.stdout).toContain('JSONArgsRecommended: JSON arguments recommended for CMD');
    expect(shellForm.stdout).toContain('(line 2)');
    const undefinedArg = lintText('FROM $BASE_IMAGE AS run\n');
    expect(undefinedArg.status).toBe(1);
    expect(undefinedArg.stdout).toContain('UndefinedArgInFrom');
  });
});

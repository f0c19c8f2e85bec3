import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  unlinkSync,
} from 'node:fs';
import path from 'node:path';
import { ROOT } from '../support/test-env';

// `rpa modules init` as a user runs it, from the project root: the files it writes, its refusal to
// overwrite, and that what it writes is a working module: its test passes under jest, it
// typechecks with its own tsconfig, and Biome finds nothing to change.

jest.setTimeout(180_000);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, FORCE_COLOR: '0' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const rpa = (...args: string[]) => run(process.execPath, [path.join(ROOT, 'bin', 'rpa'), ...args]);
const bin = (name: string, file: string, ...args: string[]) =>
  run(process.execPath, [path.join(ROOT, 'node_modules', name, file), ...args]);

const suffix = randomBytes(3).toString('hex');
const name = `e2e-${suffix}`;
const modulesDir = path.join(ROOT, 'modules');
const made: string[] = [];

afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
  // modules/ itself only if these tests made it and left it empty.
  if (existsSync(modulesDir) && readdirSync(modulesDir).length === 0) rmdirSync(modulesDir);
});

describe('rpa modules init', () => {
  const dir = path.join(modulesDir, name);
  const expected = [
    `modules/${name}/steps/${name}.greet.ts`,
    `modules/${name}/module.ts`,
    `modules/${name}/module.test.ts`,
    `modules/${name}/tsconfig.json`,
    `modules/${name}/README.md`,
  ];

  it('writes module.ts, one step, its test, a tsconfig and a README under modules/<name>', async () => {
    made.push(dir);
    const result = await rpa('modules', 'init', name);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout.trim().split('\n')).toEqual(expected);
    for (const file of expected) expect(existsSync(path.join(ROOT, file))).toBe(true);
    const moduleFile = readFileSync(path.join(dir, 'module.ts'), 'utf8');
    expect(moduleFile).toContain(`startModule({\n  name: '${name}',`);
    expect(moduleFile).toContain(`from '../../sdk'`);
    expect(readFileSync(path.join(dir, 'README.md'), 'utf8')).toContain(
      `npx rpa modules start modules/${name}/module.ts`,
    );
  });

  it('refuses to overwrite, writes nothing, and exits with 1', async () => {
    const before = readFileSync(path.join(dir, 'module.ts'), 'utf8');
    appendFileSync(path.join(dir, 'module.ts'), '// edited by hand\n');
    unlinkSync(path.join(dir, 'README.md'));
    const result = await rpa('modules', 'init', name);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`not overwriting ${path.join(dir, 'steps', `${name}.greet.ts`)}`);
    expect(result.stderr).toContain('nothing was written');
    expect(readFileSync(path.join(dir, 'module.ts'), 'utf8')).toBe(`${before}// edited by hand\n`);
    expect(existsSync(path.join(dir, 'README.md'))).toBe(false);
  });

  it('refuses a bad module name or kind, or a directory outside the project, with exit 2 and no files', async () => {
    const bad = await rpa('modules', 'init', 'Bad_Name');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('module name "Bad_Name": lowercase letters, digits and dashes');
    expect(existsSync(path.join(modulesDir, 'Bad_Name'))).toBe(false);

    const kind = await rpa('modules', 'init', `${name}-k`, '--kind', 'greet');
    expect(kind.code).toBe(2);
    expect(kind.stderr).toContain('step kind "greet": dotted lowercase words');
    expect(existsSync(path.join(modulesDir, `${name}-k`))).toBe(false);

    const outside = await rpa('modules', 'init', `${name}-o`, '--dir', path.join(ROOT, '..', `${name}-o`));
    expect(outside.code).toBe(2);
    expect(outside.stderr).toContain('is outside the project');
    expect(existsSync(path.join(ROOT, '..', `${name}-o`))).toBe(false);
  });
});

describe('a module made by rpa modules init --dir --kind, with the longest names allowed', () => {
  const top = path.join(modulesDir, `${name}-dir`);
  const dir = path.join(top, 'nested');
  const relative = path.relative(ROOT, dir);
  // Lines the generator writes must stay within Biome's width whatever the names: 63 and 4×40 characters.
  const longName = `${name}-`.padEnd(63, 'n');
  const word = (letter: string) => `${letter}${suffix}-`.padEnd(40, 'w');
  const kind = ['a', 'b', 'c', 'd'].map(word).join('.');
  const variable = `${word('d')
    .replace(/-+([a-z0-9])/g, (_, letter: string) => letter.toUpperCase())
    .replace(/-/g, '')}Step`;

  beforeAll(async () => {
    made.push(top);
    const result = await rpa('modules', 'init', longName, '--dir', relative, '--kind', kind);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${relative}/steps/${kind}.ts`);
  });

  it('passes its own test under jest', async () => {
    const result = await bin('jest', 'bin/jest.js', relative, '--selectProjects', 'modules');
    expect(result.stderr).toContain('Tests:       3 passed, 3 total');
    expect(result.code).toBe(0);
  });

  it('is clean for Biome', async () => {
    const result = await bin('@biomejs/biome', 'bin/biome', 'check', relative);
    expect(result.stdout + result.stderr).toContain('Checked 4 files');
    expect(result.code).toBe(0);
  });

  it('typechecks with its own tsconfig, which does check it', async () => {
    const clean = await bin('typescript', 'bin/tsc', '--noEmit', '-p', relative);
    expect(clean.stdout).toBe('');
    expect(clean.code).toBe(0);
    expect(readFileSync(path.join(dir, 'module.ts'), 'utf8')).toContain(
      `import { ${variable} } from './steps/${kind}';`,
    );

    appendFileSync(path.join(dir, 'steps', `${kind}.ts`), "export const broken: number = 'text';\n");
    const broken = await bin('typescript', 'bin/tsc', '--noEmit', '-p', relative);
    expect(broken.code).not.toBe(0);
    expect(broken.stdout).toContain("Type 'string' is not assignable to type 'number'");
  });
});

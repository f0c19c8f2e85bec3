import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runRpa } from '../support/rpa-cli';
import { startTestSystem, type TestSystem } from '../support/test-system';

let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem();
});

afterAll(async () => {
  await system?.close();
});

const run = (args: string[]) => runRpa(system, args);

function file(extension: string, text: string): string {
  const name = `rpa-type-${process.pid}-${Math.random().toString(36).slice(2)}.${extension}`;
  const target = path.join(tmpdir(), name);
  writeFileSync(target, text);
  return target;
}

async function versionsOf(name: string): Promise<number[]> {
  const response = await fetch(`${system.url}/v1/robot-types/${name}/versions`, {
    headers: { authorization: `Bearer ${system.adminKey}` },
  });
  if (response.status === 404) return [];
  const body = (await response.json()) as { items: { version: number }[] };
  return body.items.map((item) => item.version);
}

const name = `ticket-triage-${Math.random().toString(36).slice(2, 8)}`;

// YAML that leaves defaults out (description, timeoutSeconds): they must not count as a change.
const v1Yaml = `name: ${name}
inputSchema:
  type: object
  required: [text]
  properties:
    text: { type: string, minLength: 1 }
steps:
  - name: check
    kind: validate
    params:
      required: [text]
  - name: pause
    kind: delay
    params:
      ms: 50
`;

describe('rpa robot-types apply', () => {
  it('creates v1, is idempotent, shows a dry-run diff, and creates v2 only when a step changed', async () => {
    const first = await run(['robot-types', 'apply', '-f', file('yaml', v1Yaml)]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(`created version 1 of ${name}\n`);
    expect(await versionsOf(name)).toEqual([1]);

    const again = await run(['robot-types', 'apply', '-f', file('yml', v1Yaml)]);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`unchanged (${name} version 1)\n`);
    expect(await versionsOf(name)).toEqual([1]);

    // The same definition as JSON, with the defaults spelled out and keys in another order.
    const asJson = JSON.stringify({
      steps: [
        { kind: 'validate', name: 'check', params: { required: ['text'] }, timeoutSeconds: 60 },
        { name: 'pause', kind: 'delay', params: { ms: 50 } },
      ],
      description: '',
      name,
      inputSchema: {
        properties: { text: { minLength: 1, type: 'string' } },
        required: ['text'],
        type: 'object',
      },
    });
    const sameJson = await run(['robot-types', 'apply', '-f', file('json', asJson)]);
    expect(sameJson.stdout).toBe(`unchanged (${name} version 1)\n`);

    const v2Yaml = v1Yaml.replace('ms: 50', 'ms: 75');
    const dryRun = await run(['robot-types', 'apply', '-f', file('yaml', v2Yaml), '--dry-run']);
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain(`--- ${name} version 1`);
    expect(dryRun.stdout).toContain(`+++ ${name} version 2 (from the file)`);
    const changed = dryRun.stdout.split('\n').filter((line) => /^[+-] /.test(line));
    expect(changed).toEqual(['-         "ms": 50', '+         "ms": 75']);
    expect(dryRun.stdout).toContain('would create version 2');
    const diff = await run(['robot-types', 'diff', '-f', file('yaml', v2Yaml)]);
    expect(diff.stdout).toBe(dryRun.stdout);
    expect(await versionsOf(name)).toEqual([1]);

    const second = await run(['robot-types', 'apply', '-f', file('yaml', v2Yaml)]);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe(`created version 2 of ${name}\n`);
    expect(await versionsOf(name)).toEqual([2, 1]);
    const settled = await run(['robot-types', 'apply', '-f', file('yaml', v2Yaml)]);
    expect(settled.stdout).toBe(`unchanged (${name} version 2)\n`);
    expect(await versionsOf(name)).toEqual([2, 1]);
  }, 60_000);

  it('dry-run of a new name shows the whole definition as added and registers nothing', async () => {
    const fresh = `fresh-${Math.random().toString(36).slice(2, 8)}`;
    const result = await run([
      'robot-types',
      'apply',
      '--dry-run',
      '-f',
      file(
        'json',
        JSON.stringify({ name: fresh, steps: [{ name: 'wait', kind: 'delay', params: { ms: 1 } }] }),
      ),
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`--- ${fresh} (not registered)`);
    expect(result.stdout).toContain(`+   "name": "${fresh}",`);
    expect(result.stdout).not.toMatch(/^- /m);
    expect(result.stdout).toContain('would create version 1');
    expect(await versionsOf(fresh)).toEqual([]);
  });

  it('refuses a file that does not parse with exit 2 and the parser message', async () => {
    const yaml = await run(['robot-types', 'apply', '-f', file('yaml', 'name: x\nsteps: [\n')]);
    expect(yaml.code).toBe(2);
    expect(yaml.stderr).toMatch(/is not valid YAML: .*flow sequence/i);
    const json = await run(['robot-types', 'apply', '-f', file('json', '{"name": "x",')]);
    expect(json.code).toBe(2);
    expect(json.stderr).toContain('is not valid JSON:');
    const list = await run(['robot-types', 'apply', '-f', file('json', '[1]')]);
    expect(list.code).toBe(2);
    expect(list.stderr).toContain('must hold a robot type definition');
  });

  it("prints the API's 400 errors for a definition it refuses, and registers nothing", async () => {
    const bad = `bad-${Math.random().toString(36).slice(2, 8)}`;
    const result = await run([
      'robot-types',
      'apply',
      '-f',
      file('json', JSON.stringify({ name: bad, steps: [{ name: 'x', kind: 'no-such-kind' }] })),
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('400');
    expect(JSON.parse(result.stdout)).toEqual(
      expect.arrayContaining([expect.objectContaining({ field: 'body.steps.0.kind' })]),
    );
    expect(await versionsOf(bad)).toEqual([]);
  });
});

describe('rpa robot-types list | show | versions', () => {
  const listed = `listed-${Math.random().toString(36).slice(2, 8)}`;
  const definition = (ms: number) =>
    JSON.stringify({
      name: listed,
      description: 'for the list test',
      steps: [{ name: 'wait', kind: 'delay', params: { ms } }],
    });

  beforeAll(async () => {
    expect((await run(['robot-types', 'apply', '-f', file('json', definition(1))])).code).toBe(0);
    expect((await run(['robot-types', 'apply', '-f', file('json', definition(2))])).code).toBe(0);
  }, 30_000);

  it('list shows built-in types and the newest version of registered ones', async () => {
    const table = await run(['robot-types', 'list']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^demo\s+v1\s+built-in\s+4 step\(s\)/m);
    expect(table.stdout).toMatch(new RegExp(`^${listed}\\s+v2\\s+registered\\s+1 step\\(s\\)`, 'm'));
    const json = JSON.parse((await run(['robot-types', 'list', '--json'])).stdout) as { name: string }[];
    expect(json.map((type) => type.name)).toEqual(expect.arrayContaining(['demo', listed]));
  });

  it('show prints the newest version, or the one asked for; an unknown one exits 2', async () => {
    const newest = await run(['robot-types', 'show', listed]);
    expect(newest.code).toBe(0);
    expect(JSON.parse(newest.stdout)).toMatchObject({
      name: listed,
      version: 2,
      steps: [{ params: { ms: 2 } }],
    });
    const first = await run(['robot-types', 'show', listed, '1']);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ version: 1, steps: [{ params: { ms: 1 } }] });
    const missing = await run(['robot-types', 'show', listed, '9']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`robot type ${listed} has no version 9 (versions: 2, 1)`);
    const unknown = await run(['robot-types', 'show', 'no-such-type']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('404 Not Found');
  });

  it('versions lists every version newest first', async () => {
    const table = await run(['robot-types', 'versions', listed]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^${listed}\\s+v2\\s+registered`));
    expect(lines[1]).toMatch(new RegExp(`^${listed}\\s+v1\\s+registered`));
    const json = JSON.parse((await run(['robot-types', 'versions', listed, '--json'])).stdout) as {
      version: number;
    }[];
    expect(json.map((type) => type.version)).toEqual([2, 1]);
  });
});

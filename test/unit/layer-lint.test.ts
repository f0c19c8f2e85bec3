import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.join(__dirname, '..', '..');

// The layer rules in biome.json (ADR 0018) are what keeps imports running downwards: prove each one
// bites, and that what DESIGN.md allows still passes. Probe files are written into the real folders
// (the rules are per folder) and linted in one Biome run. `rule`: the diagnostic a refused probe
// must draw (noRestrictedImports unless told). `topLevel`: the probe is a file of the folder itself,
// for rules on `core/*.ts` (the config), which a file in a subfolder would escape.

type Case = { folder: string; source: string; rule?: string; ext?: 'ts' | 'mjs'; topLevel?: true };

const importing = (specifier: string) => `import * as probe from '${specifier}';\nexport const x = probe;\n`;

const refused: Record<string, Case> = {
  'core → api': { folder: 'core', source: importing('../../api/schemas') },
  'core → activities': { folder: 'core', source: importing('../../activities/selection') },
  'core → workers': { folder: 'core', source: importing('../../workers/maintenance-workflows') },
  'core → workflows': { folder: 'core', source: importing('../../workflows/robot/robot.definitions') },
  'core → db': { folder: 'core', source: importing('../../db/client') },
  'db → api': { folder: 'db', source: importing('../../api/schemas') },
  'db → activities': { folder: 'db', source: importing('../../activities/selection') },
  'db → workers': { folder: 'db', source: importing('../../workers/maintenance-workflows') },
  'db → workflows': { folder: 'db', source: importing('../../workflows/robot/robot.definitions') },
  'activities → api': { folder: 'activities', source: importing('../../api/schemas') },
  'activities → workers': { folder: 'activities', source: importing('../../workers/maintenance-workflows') },
  'activities → workflows': {
    folder: 'activities',
    source: importing('../../workflows/mailbox-monitor.definitions'),
  },
  'api → activities': { folder: 'api', source: importing('../../activities/selection') },
  'api → workers': { folder: 'api', source: importing('../../workers/maintenance-workflows') },
  'api → a workflow implementation': { folder: 'api', source: importing('../../workflows/robot.workflow') },
  'workflows → api': { folder: 'workflows', source: importing('../../api/schemas') },
  'workflows → db': { folder: 'workflows', source: importing('../../db/client') },
  'workflows → workers': { folder: 'workflows', source: importing('../../workers/maintenance-workflows') },
  'workers → cli': { folder: 'workers', source: importing('../../cli/main') },
  'sdk → api': { folder: 'sdk', source: importing('../../api/schemas') },
  'sdk → workflows': { folder: 'sdk', source: importing('../../workflows/robot/robot.definitions') },
  // core/ in two wings (ADR 0020): workflows see only the domain, and the domain sees no I/O.
  'workflows → core adapters': {
    folder: 'workflows',
    source: importing('../../core/adapters/redis/redis.client'),
  },
  'workflows → core config': { folder: 'workflows', source: importing('../../core/config') },
  'workflows → core observability': {
    folder: 'workflows',
    source: importing('../../core/observability/logger'),
  },
  'core domain → adapters': { folder: 'core/domain', source: importing('../../adapters/redis/redis.client') },
  'core domain → observability': { folder: 'core/domain', source: importing('../../observability/metrics') },
  'core domain → config': { folder: 'core/domain', source: importing('../../config') },
  'core domain → db': { folder: 'core/domain', source: importing('../../../db/client') },
  'core domain → activities': { folder: 'core/domain', source: importing('../../../activities/selection') },
  'core domain → an I/O library': { folder: 'core/domain', source: importing('ioredis') },
  'core domain → prom-client': { folder: 'core/domain', source: importing('prom-client') },
  'core domain → the Temporal client': { folder: 'core/domain', source: importing('@temporalio/client') },
  'core domain → a Node I/O module': {
    folder: 'core/domain',
    source: importing('node:fs/promises'),
    rule: 'lint/correctness/noNodejsModules',
  },
  // Not I/O, but refused by the workflow sandbox and non-deterministic (randomBytes): core/adapters/crypto/.
  'core domain → node:crypto': {
    folder: 'core/domain',
    source: importing('node:crypto'),
    rule: 'lint/correctness/noNodejsModules',
  },
  'core adapters → db': { folder: 'core/adapters', source: importing('../../../db/client') },
  'dashboard → api': { folder: 'dashboard', source: importing('../../api/schemas'), ext: 'mjs' },
  'dashboard → core': { folder: 'dashboard', source: importing('../../core/domain/robot'), ext: 'mjs' },
  'core config → adapters': {
    folder: 'core',
    source: importing('./adapters/crypto/secret-box'),
    topLevel: true,
  },
  'core observability → adapters': {
    folder: 'core/observability',
    source: importing('../../adapters/redis/redis.client'),
  },
};

const allowed: Record<string, Case> = {
  'db → core domain': { folder: 'db', source: importing('../../core/domain/robot') },
  'db → core adapters': { folder: 'db', source: importing('../../core/adapters/redis/redis.client') },
  'activities → db': { folder: 'activities', source: importing('../../db/robots.repository') },
  'api → db': { folder: 'api', source: importing('../../db/robots.repository') },
  'api → workflow handles': { folder: 'api', source: importing('../../workflows/robot/robot.definitions') },
  'workers → api': { folder: 'workers', source: importing('../../api/schemas') },
  'workers → activities': { folder: 'workers', source: importing('../../activities/selection') },
  'sdk → workers': { folder: 'sdk', source: importing('../../workers/secret-params') },
  'workflows → core domain': {
    folder: 'workflows',
    source: importing('../../core/domain/robot-workflow.contract'),
  },
  'core domain → domain': { folder: 'core/domain', source: importing('../robot') },
  'core domain → a pure library': { folder: 'core/domain', source: importing('zod') },
  'core domain → @temporalio/common': { folder: 'core/domain', source: importing('@temporalio/common') },
  'core adapters → domain': { folder: 'core/adapters', source: importing('../../domain/robot') },
  'core adapters → observability': {
    folder: 'core/adapters',
    source: importing('../../observability/metrics'),
  },
  'core adapters → an I/O library': { folder: 'core/adapters', source: importing('ioredis') },
  'core config → domain': { folder: 'core', source: importing('./domain/load-balancer'), topLevel: true },
  'core adapters → config': { folder: 'core/adapters', source: importing('../../config') },
  'core observability → config': { folder: 'core/observability', source: importing('../../config') },
  'activities → core adapters': {
    folder: 'activities',
    source: importing('../../core/adapters/http/ssrf.guard'),
  },
  'dashboard → its own modules': { folder: 'dashboard', source: importing('../dom.mjs'), ext: 'mjs' },
};

/** Probe folders and top-level probe files: linted together, removed after. */
const dirs: string[] = [];
const findings = new Map<string, string[]>();

function probeFile(folder: string, name: string, source: string, ext = 'ts', topLevel = false): string {
  const slug = name.replace(/[^a-z]+/gi, '-');
  let file: string;
  if (topLevel) {
    file = path.join(root, folder, `lint-probe-${process.pid}-${slug}.${ext}`);
    dirs.push(file);
  } else {
    const dir = mkdtempSync(path.join(root, folder, 'lint-probe-'));
    dirs.push(dir);
    file = path.join(dir, `${slug}.${ext}`);
  }
  writeFileSync(file, source);
  return path.relative(root, file);
}

beforeAll(() => {
  const files: Record<string, string> = {};
  for (const [name, { folder, source, ext, topLevel }] of Object.entries({ ...refused, ...allowed })) {
    files[name] = probeFile(folder, name, source, ext, topLevel);
  }
  // Two modules that import each other: the cycle rule must name both.
  const cycleDir = mkdtempSync(path.join(root, 'db', 'lint-probe-'));
  dirs.push(cycleDir);
  writeFileSync(path.join(cycleDir, 'a.ts'), "import { b } from './b';\nexport const a = () => b;\n");
  writeFileSync(path.join(cycleDir, 'b.ts'), "import { a } from './a';\nexport const b = () => a;\n");

  const result = spawnSync(
    process.execPath,
    [
      require.resolve('@biomejs/biome/bin/biome'),
      'lint',
      '--reporter=json',
      ...dirs.map((dir) => path.relative(root, dir)),
    ],
    { cwd: root, encoding: 'utf8' },
  );
  const report = JSON.parse(result.stdout) as {
    diagnostics: { category: string; location: { path: string } }[];
  };
  for (const diagnostic of report.diagnostics) {
    const list = findings.get(diagnostic.location.path) ?? [];
    list.push(diagnostic.category);
    findings.set(diagnostic.location.path, list);
  }
  for (const [name, file] of Object.entries(files)) findings.set(name, findings.get(file) ?? []);
  findings.set('cycle', [
    ...(findings.get(path.relative(root, path.join(cycleDir, 'a.ts'))) ?? []),
    ...(findings.get(path.relative(root, path.join(cycleDir, 'b.ts'))) ?? []),
  ]);
});

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('the layer lint rules', () => {
  it.each(Object.keys(refused))('refuses %s', (name) => {
    expect(findings.get(name)).toContain(refused[name]?.rule ?? 'lint/style/noRestrictedImports');
  });

  it.each(Object.keys(allowed))('allows %s', (name) => {
    expect(findings.get(name)).toEqual([]);
  });

  it('refuses an import cycle', () => {
    expect(findings.get('cycle')).toEqual([
      'lint/suspicious/noImportCycles',
      'lint/suspicious/noImportCycles',
    ]);
  });
});

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isCustomKind } from '../core/domain/step-kinds';
import { UsageError } from './command-helpers';

// `rpa modules init`: a module made with the SDK, small enough to read in a minute: module.ts
// (startModule), one step in steps/, a Jest test of the step, a tsconfig and a README. The files
// import the SDK by a relative path, so the module must sit inside this project (its node_modules
// hold zod and Temporal).

export const PROJECT_ROOT = path.resolve(__dirname, '..');
const MODULE_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** `<name>.greet`, the name cut to the 40 characters a kind's word may have. */
export const defaultKind = (name: string): string => `${name.slice(0, 40).replace(/-+$/, '')}.greet`;

/** A file that is already there: nothing is written, exit code 1. */
export class WouldOverwriteError extends Error {}

export interface ScaffoldOptions {
  name: string;
  /** Where the files go; `modules/<name>` under the current directory by default. */
  dir: string;
  /** The step kind of the generated step; `<name>.greet` by default. */
  kind: string;
}

const posix = (from: string, to: string) => {
  const relative = path.relative(from, to).split(path.sep).join('/');
  return relative.startsWith('.') ? relative : `./${relative}`;
};

/** `acme.crm-lookup` → `crmLookupStep`: the step's variable name (never a reserved word like `delete`). */
function variableName(kind: string): string {
  const last = kind.split('.').at(-1) ?? kind;
  return `${last.replace(/-+([a-z0-9])/g, (_, letter: string) => letter.toUpperCase()).replace(/-/g, '')}Step`;
}

function files(options: ScaffoldOptions, dir: string): Record<string, string> {
  const { name, kind } = options;
  const sdk = posix(dir, path.join(PROJECT_ROOT, 'sdk'));
  const sdkFromSteps = posix(path.join(dir, 'steps'), path.join(PROJECT_ROOT, 'sdk'));
  const step = variableName(kind);
  const shown = posix(process.cwd(), dir).replace(/^\.\//, '');
  return {
    [`steps/${kind}.ts`]: `import { z } from 'zod';
import { defineStep } from '${sdkFromSteps}';

// The schemas are the step's contract: registration declares them to the catalog, robot types'
// params are checked against \`params\`, and the module checks every attempt's params, input and
// output before and after \`run\`. Change them together with \`version\` (a breaking change: a new kind).
export const ${step} = defineStep({
  kind: '${kind}',
  version: '1.0.0',
  description: 'Greets the person named in the robot data',
  params: z.object({ greeting: z.string().min(1).default('Hello') }),
  input: z.object({ name: z.string().min(1) }),
  output: z.object({ message: z.string() }),
  async run({ params, input, log }) {
    log.info({ name: input.name }, 'greeting');
    return { message: \`\${params.greeting}, \${input.name}!\` };
  },
});
`,
    'module.ts': `import { startModule } from '${sdk}';
import { ${step} } from './steps/${kind}';

// RPA_API_KEY=<a key with modules:write> npx rpa modules start ${shown}/module.ts
startModule({
  name: '${name}',
  version: '1.0.0',
  capacity: 4,
  steps: [${step}],
}).catch((err: unknown) => {
  process.stderr.write(\`the module did not start: \${err instanceof Error ? err.message : String(err)}\\n\`);
  process.exit(1);
});
`,
    'module.test.ts': `import { PermanentError, runStep } from '${sdk}';
import { ${step} } from './steps/${kind}';

// The step as the module runs it, schemas included, without Temporal or the API.
describe('${kind}', () => {
  it('greets the person in the robot data', async () => {
    const output = await runStep(${step}, { input: { name: 'Ada' } });
    expect(output).toEqual({ message: 'Hello, Ada!' });
  });

  it('takes its greeting from the params', async () => {
    const output = await runStep(${step}, {
      params: { greeting: 'Welcome' },
      input: { name: 'Ada' },
    });
    expect(output).toEqual({ message: 'Welcome, Ada!' });
  });

  it('refuses robot data without a name, naming the field', async () => {
    const failure = runStep(${step}, { input: {} });
    await expect(failure).rejects.toBeInstanceOf(PermanentError);
    await expect(failure).rejects.toThrow(/input\\.name: /);
  });
});
`,
    // Extends the project's settings: \`npx tsc -p\` checks the module alone, wherever it sits in the project.
    'tsconfig.json': `{\n  "extends": "${posix(dir, path.join(PROJECT_ROOT, 'tsconfig.json'))}",\n  "include": ["."]\n}\n`,
    'README.md': `# Module ${name}

Serves the step kind \`${kind}\` (steps/${kind}.ts) on the task queue \`module-${name}\`.

Start it (an API key with the scope \`modules:write\`; \`RPA_API_URL\` if the API is not on
http://127.0.0.1:3000; Temporal from \`TEMPORAL_ADDRESS\`):

    RPA_API_KEY=<key> npx rpa modules start ${shown}/module.ts

Test and typecheck it:

    npx jest ${shown}
    npx tsc --noEmit -p ${shown}

A robot type uses it like any step kind, once the module has registered:

    steps:
      - name: greet
        kind: ${kind}
        params: { greeting: Hello }

See docs/module-sdk.md in the project for secrets, timeouts, heartbeats and how a module stops.
`,
  };
}

/** Writes the module's files; refuses (writing nothing) if any of them exists. Returns the paths written. */
export function scaffoldModule(options: ScaffoldOptions): string[] {
  if (!MODULE_NAME.test(options.name)) {
    throw new UsageError(
      `module name "${options.name}": lowercase letters, digits and dashes, from a letter`,
    );
  }
  if (!isCustomKind(options.kind)) {
    throw new UsageError(
      `step kind "${options.kind}": dotted lowercase words like ${defaultKind(options.name)} (--kind)`,
    );
  }
  const dir = path.resolve(options.dir);
  if (path.relative(PROJECT_ROOT, dir).startsWith('..')) {
    throw new UsageError(
      `--dir ${dir} is outside the project (${PROJECT_ROOT}): the module imports the SDK and zod from it`,
    );
  }
  const planned = Object.entries(files(options, dir)).map(
    ([file, text]) => [path.join(dir, file), text] as const,
  );
  const existing = planned.filter(([file]) => existsSync(file)).map(([file]) => file);
  if (existing.length > 0) {
    throw new WouldOverwriteError(`not overwriting ${existing.join(', ')}: nothing was written`);
  }
  for (const [file, text] of planned) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text, { flag: 'wx' });
  }
  return planned.map(([file]) => file);
}

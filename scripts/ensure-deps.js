#!/usr/bin/env node
// Makes `npm start` and `npm test` work on a fresh clone: installs the locked npm packages when
// node_modules is missing or older than package-lock.json, locates or builds the Temporal CLI, and
// for `npm test` installs the Debian packages the tests drive (scripts/system-deps.js; for `npm run
// bench`, only those of the OCR benches). As root it installs them with apt-get; otherwise it prints
// the one command to run and goes on, so the tests that need a missing tool fail with a message that
// names it (they never skip).
// It also builds the example modules written in Go that the tests run (scripts/go-examples.js), and
// helm and kubeconform for the Helm chart test (scripts/install-helm-tools.sh), weed (SeaweedFS) for
// the S3 document store test (scripts/install-seaweedfs.sh), and temporal-server and temporal-sql-tool
// for the Temporal cluster test (scripts/install-temporal-server.sh).
// Node built-ins only: it runs before anything is installed.
const { execFileSync } = require('node:child_process');
const { existsSync, statSync } = require('node:fs');
const path = require('node:path');
const { build: buildNativeOcr } = require('./build-native-ocr');
const { ensureGoExamples } = require('./go-examples');
const { SYSTEM_DEPS, installCommand, missingDeps } = require('./system-deps');

const root = path.resolve(__dirname, '..');
const installed = path.join(root, 'node_modules', '.package-lock.json');
const lock = path.join(root, 'package-lock.json');

/**
 * Tools the tests build from the Go module proxy once per machine (scripts/go-tool.sh).
 */
const GO_TOOLS = [
  // helm and kubeconform: test/unit/helm-chart.test.ts
  { script: 'install-helm-tools.sh', missing: 'helm or kubeconform', test: 'the Helm chart test' },
  // weed (SeaweedFS): test/integration/documents-s3.test.ts
  { script: 'install-seaweedfs.sh', missing: 'weed', test: 'the S3 document store test' },
  // temporal-server and temporal-sql-tool (Temporal v1.29.1): test/e2e/temporal-cluster.test.ts
  {
    script: 'install-temporal-server.sh',
    missing: 'temporal-server or temporal-sql-tool',
    test: 'the Temporal cluster test',
  },
];

if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
  console.error('Installing npm packages (npm ci)…');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}

try {
  execFileSync('bash', [path.join(root, 'scripts', 'install-temporal.sh')], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
} catch {
  process.exit(1);
}

// Only the tests drive a browser, a private Dovecot, PDFs through poppler, the OCR benchmark's
// native tesseract and the Go example modules: `npm start` needs none of them.
const forTests = ['test', 'chaos'].includes(process.env.npm_lifecycle_event);
if (forTests) {
  ensureSystemDeps(SYSTEM_DEPS);
  ensureGoExamples();
  ensureGoTools();
}
// `npm run bench` runs the OCR benches: their native baseline and poppler, nothing else.
if (process.env.npm_lifecycle_event === 'bench') {
  ensureSystemDeps(SYSTEM_DEPS.filter((dep) => dep.bench));
}

// The optional native OCR engine (OCR_ENGINE=native), wherever libtesseract-dev is installed: built
// from Debian's headers with no download, skipped quietly elsewhere (tesseract.js needs nothing).
try {
  buildNativeOcr({ quiet: !forTests });
} catch (err) {
  console.error(`the native OCR engine did not build (OCR_ENGINE=native will say so): ${err.message}`);
}

/** Runs each GO_TOOLS script; a failure is reported, not fatal: only that tool's test then fails. */
function ensureGoTools() {
  for (const tool of GO_TOOLS) {
    try {
      execFileSync('bash', [path.join(root, 'scripts', tool.script)], {
        cwd: root,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    } catch {
      console.error(`${tool.missing} is missing (scripts/${tool.script}): ${tool.test} will fail.`);
    }
  }
}

function ensureSystemDeps(deps) {
  const missing = missingDeps(deps);
  if (missing.length === 0) return;
  const packages = missing.map((dep) => dep.package);
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && existsSync('/usr/bin/apt-get')) {
    console.error(`Installing what the tests need (apt-get install ${packages.join(' ')})…`);
    if (aptInstall(packages)) {
      // Installing dovecot-imapd may start the system service; the tests run their own instance.
      if (packages.includes('dovecot-imapd')) quiet('service', ['dovecot', 'stop']);
      const still = missingDeps(deps);
      if (still.length === 0) return;
      missing.splice(0, missing.length, ...still);
    }
  }
  console.error(
    [
      `These tools are missing, and the tests or benches that use them will fail: ${missing.map(describe).join('; ')}.`,
      `Install them with this one command, then run npm ${process.env.npm_lifecycle_event ?? 'test'} again:`,
      `  ${installCommand(missing)}`,
    ].join('\n'),
  );
}

/** Installs from the current package lists first; stale or missing lists are refreshed once. */
function aptInstall(packages) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = ['install', '-y', '-qq', ...packages];
  if (quiet('apt-get', install, env)) return true;
  return quiet('apt-get', ['update', '-qq'], env) && quiet('apt-get', install, env, 'inherit');
}

function quiet(command, args, env = process.env, stderr = 'ignore') {
  try {
    execFileSync(command, args, { env, stdio: ['ignore', 'ignore', stderr] });
    return true;
  } catch {
    return false;
  }
}

function describe(dep) {
  return `${dep.package} (${dep.why})`;
}

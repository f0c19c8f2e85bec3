#!/usr/bin/env node
// Makes `npm start` and `npm test` work on a fresh clone: installs the locked npm packages when
// node_modules is missing or older than package-lock.json, then locates or builds the Temporal CLI,
// and for `npm test` finds Chromium (the dashboard's browser tests) and Dovecot (email intake),
// installing them as root.
// Node built-ins only: it runs before anything is installed.
const { execFileSync } = require('node:child_process');
const { existsSync, statSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const installed = path.join(root, 'node_modules', '.package-lock.json');
const lock = path.join(root, 'package-lock.json');

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

// Only the tests drive a browser and a private Dovecot (email intake): `npm start` needs neither.
if (process.env.npm_lifecycle_event === 'test') {
  ensureChromium();
  ensureDovecot();
}

function ensureDovecot() {
  try {
    execFileSync('bash', [path.join(root, 'scripts', 'install-mail-deps.sh')], {
      cwd: root,
      stdio: 'inherit',
    });
  } catch {
    console.error(
      'Dovecot was not found at /usr/sbin/dovecot; test/integration/email-intake.test.ts will fail without it.\n' +
        'Install it (Debian/Ubuntu: sudo apt-get install -y dovecot-imapd).',
    );
  }
}

function ensureChromium() {
  const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (existsSync(chromium)) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && existsSync('/usr/bin/apt-get')) {
    console.error('Installing Chromium for the dashboard tests (apt-get install chromium)…');
    try {
      execFileSync('apt-get', ['update'], { stdio: 'inherit' });
      execFileSync('apt-get', ['install', '-y', 'chromium'], { stdio: 'inherit' });
      return;
    } catch {
      // fall through to the message
    }
  }
  console.error(
    `Chromium was not found at ${chromium}; test/e2e/dashboard.test.ts will fail without it.\n` +
      'Install it (Debian/Ubuntu: sudo apt-get install -y chromium) or set CHROMIUM_PATH to a Chromium binary.',
  );
}

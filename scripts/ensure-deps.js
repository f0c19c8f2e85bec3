#!/usr/bin/env node
// Makes `npm start` and `npm test` work on a fresh clone: installs the locked npm packages when
// node_modules is missing or older than package-lock.json, then locates or builds the Temporal CLI.
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

// The Debian packages the test suite drives, each found by the files it installs. One list, read by
// scripts/ensure-deps.js (npm test installs them as root) and by the tests' own messages, so a tool
// a later test needs is added here once. Node built-ins only.
const { existsSync } = require('node:fs');
const path = require('node:path');

/** @typedef {{ package: string, why: string, found: () => boolean, bench?: boolean }} SystemDep */

const onPath = (command) =>
  (process.env.PATH ?? '')
    .split(path.delimiter)
    .some((dir) => dir !== '' && existsSync(path.join(dir, command)));

/** @type {SystemDep[]} */
const SYSTEM_DEPS = [
  {
    package: 'chromium',
    why: 'the dashboard tests drive it',
    found: () => existsSync(process.env.CHROMIUM_PATH || '/usr/bin/chromium'),
  },
  {
    package: 'dovecot-imapd',
    why: 'the email-intake tests run a private IMAP server',
    found: () => existsSync(process.env.DOVECOT_BIN || '/usr/sbin/dovecot'),
  },
  {
    package: 'poppler-utils',
    why: 'the ocr step renders and reads PDFs with pdfinfo, pdftotext and pdftoppm',
    bench: true, // bench:ocr-pages reads a PDF
    found: () => ['pdfinfo', 'pdftotext', 'pdftoppm'].every(onPath),
  },
  {
    package: 'iproute2',
    why: 'the network-partition chaos scenario, run as root, makes network namespaces with ip and cuts them with tc',
    found: () =>
      ['ip', 'tc'].every((command) => onPath(command) || existsSync(path.join('/usr/sbin', command))),
  },
  {
    package: 'nginx',
    why: 'the multi-host chaos scenario balances its API processes with nginx',
    found: () => ['/usr/sbin/nginx', '/usr/bin/nginx'].some((file) => existsSync(file)),
  },
  {
    package: 'libtesseract-dev',
    why: 'the native OCR engine (OCR_ENGINE=native) is built against it, and its tests read the fixtures with it',
    found: () =>
      existsSync('/usr/include/tesseract/baseapi.h') && existsSync('/usr/include/leptonica/allheaders.h'),
  },
  {
    package: 'tesseract-ocr',
    why: "the OCR benchmark's native baseline (its smoke run is a test)",
    bench: true,
    found: () => onPath('tesseract'),
  },
];

/** @param {SystemDep[]} deps */
function missingDeps(deps = SYSTEM_DEPS) {
  return deps.filter((dep) => !dep.found());
}

/** The one command that installs what is missing. @param {SystemDep[]} missing */
function installCommand(missing) {
  return `sudo apt-get update && sudo apt-get install -y ${missing.map((dep) => dep.package).join(' ')}`;
}

/** The message a test throws when a package it needs is missing. @param {string} name */
function missingMessage(name) {
  const dep = SYSTEM_DEPS.find((candidate) => candidate.package === name);
  if (!dep) throw new Error(`unknown system dependency ${name}`);
  return `${dep.package} is not installed (${dep.why}); npm test installs it when run as root, or run: ${installCommand([dep])}`;
}

module.exports = { SYSTEM_DEPS, installCommand, missingDeps, missingMessage };

#!/usr/bin/env node
// Builds the optional native OCR engine (native/tesseract-binding.cc, OCR_ENGINE=native) against the
// system's libtesseract when Debian's libtesseract-dev is installed, with the system C++ compiler and
// the headers of the Node that runs this script: nothing is downloaded. Without libtesseract-dev it
// says so and exits 0: tesseract.js stays the engine that needs no install.
// Usage: node scripts/build-native-ocr.js [--quiet]  (rebuilds only when the source or Node changed)
// Node built-ins only: scripts/ensure-deps.js runs it before anything is installed.
const { execFileSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const { existsSync, mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const source = path.join(root, 'native', 'tesseract-binding.cc');
const outDir = path.join(root, 'native', 'build');
const output = path.join(outDir, 'tesseract-binding.node');
const stamp = path.join(outDir, 'built-for');

/** Node's own headers: the install's include/node (Debian's nodejs and the official tarballs ship them). */
function nodeHeaders() {
  const candidates = [
    process.env.npm_config_nodedir && path.join(process.env.npm_config_nodedir, 'include', 'node'),
    path.join(path.dirname(path.dirname(process.execPath)), 'include', 'node'),
    '/usr/include/node',
  ].filter(Boolean);
  return candidates.find((dir) => existsSync(path.join(dir, 'node_api.h')));
}

/** Builds unless the binding is there for this source and this Node; true when it is there after. */
function build({ quiet = false } = {}) {
  if (!existsSync('/usr/include/tesseract/baseapi.h') || !existsSync('/usr/include/leptonica/allheaders.h')) {
    if (!quiet)
      console.error('native OCR engine not built: libtesseract-dev is not installed (tesseract.js is used)');
    return false;
  }
  const headers = nodeHeaders();
  if (!headers) {
    if (!quiet)
      console.error("native OCR engine not built: Node's headers (include/node/node_api.h) are not found");
    return false;
  }
  const built = `${process.version} ${createHash('sha256').update(readFileSync(source)).digest('hex')}`;
  if (existsSync(output) && existsSync(stamp) && readFileSync(stamp, 'utf8') === built) return true;
  mkdirSync(outDir, { recursive: true });
  execFileSync(
    process.env.CXX || 'g++',
    [
      '-std=c++17',
      '-O2',
      '-shared',
      '-fPIC',
      '-DNODE_GYP_MODULE_NAME=tesseract_binding',
      `-I${headers}`,
      '-o',
      output,
      source,
      '-ltesseract',
      '-lleptonica',
    ],
    { stdio: 'inherit' },
  );
  writeFileSync(stamp, built);
  if (!quiet) console.error(`native OCR engine built: ${path.relative(root, output)}`);
  return true;
}

if (require.main === module) {
  try {
    build({ quiet: process.argv.includes('--quiet') });
  } catch (err) {
    console.error(`native OCR engine not built: ${err.message}`);
    process.exit(1);
  }
}

module.exports = { build, output };

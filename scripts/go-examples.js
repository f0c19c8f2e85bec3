#!/usr/bin/env node
// Builds the Go programs the tests run into .tools/bin, once per change of their sources: the example
// modules written in Go (examples/*/go.mod), tools/compose-config (the Compose loader behind
// `docker compose config`, for test/unit/compose-spec.test.ts) and tools/dockerfile-lint (BuildKit's
// Dockerfile checks, for test/unit/dockerfile-lint.test.ts): scripts/ensure-deps.js runs it for `npm test`, tests only run the binaries
// (test/support/go-module.ts), never build them. A missing Go toolchain is reported, not fatal:
// only the tests that start a Go module then fail, with this message.
// Node built-ins only: it runs before anything is installed. `node scripts/go-examples.js` builds.
const { execFileSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const binDir = path.join(root, '.tools', 'bin');

/** @typedef {{ name: string, source: string, binary: string, stamp: string }} GoExample */

/** @param {string} name @param {string} dir @returns {GoExample} */
function goExample(name, dir = 'examples') {
  return {
    name,
    source: path.join(root, dir, name),
    binary: path.join(binDir, name),
    // The hash of the sources the binary was built from.
    stamp: path.join(binDir, `${name}.sources-sha256`),
  };
}

const GO_EXAMPLES = [
  goExample('ledger-module'),
  goExample('compose-config', 'tools'),
  goExample('dockerfile-lint', 'tools'),
];

/** go.mod, go.sum and the non-test .go files: what goes into the binary. @param {GoExample} example */
function sourceHash(example) {
  const files = readdirSync(example.source)
    .filter(
      (file) =>
        file === 'go.mod' || file === 'go.sum' || (file.endsWith('.go') && !file.endsWith('_test.go')),
    )
    .sort();
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(`${file}\0`);
    hash.update(readFileSync(path.join(example.source, file)));
    hash.update('\0');
  }
  return hash.digest('hex');
}

/** Why the binary cannot be used as it is, or undefined when it is current. @param {GoExample} example */
function staleReason(example) {
  if (!existsSync(example.binary)) return `${path.relative(root, example.binary)} was not built`;
  const built = existsSync(example.stamp) ? readFileSync(example.stamp, 'utf8').trim() : '';
  if (built !== sourceHash(example))
    return `${path.relative(root, example.binary)} is older than its sources`;
  return undefined;
}

function goCommand() {
  const candidates = [
    ...(process.env.PATH ?? '').split(path.delimiter).map((dir) => path.join(dir, 'go')),
    '/usr/local/go/bin/go',
  ];
  return candidates.find((candidate) => candidate !== 'go' && existsSync(candidate));
}

const buildCommand = 'node scripts/go-examples.js';

/**
 * Builds every example whose sources changed since its last build. Returns false (after saying why
 * on stderr) when one could not be built.
 */
function ensureGoExamples() {
  const stale = GO_EXAMPLES.filter((example) => staleReason(example) !== undefined);
  if (stale.length === 0) return true;
  const go = goCommand();
  if (!go) {
    console.error(
      [
        `Go is not installed, so ${stale.map((example) => example.name).join(', ')} cannot be built;`,
        'the tests that run them will fail. Install Go 1.26+ (https://go.dev/doc/install), then run npm test again.',
      ].join('\n'),
    );
    return false;
  }
  mkdirSync(binDir, { recursive: true });
  let ok = true;
  for (const example of stale) {
    console.error(`Building ${path.relative(root, example.source)} (Go)…`);
    const partial = `${example.binary}.partial`;
    try {
      execFileSync(go, ['build', '-buildvcs=false', '-o', partial, '.'], {
        cwd: example.source,
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      renameSync(partial, example.binary);
      writeFileSync(example.stamp, `${sourceHash(example)}\n`);
    } catch {
      console.error(
        `Building ${path.relative(root, example.source)} failed (above); the tests that run it will fail.`,
      );
      ok = false;
    }
  }
  return ok;
}

/** The binary's path for a test, or an error that says how to build it. @param {string} name */
function builtGoExample(name) {
  const example = GO_EXAMPLES.find((candidate) => candidate.name === name);
  if (!example) throw new Error(`unknown Go example ${name}`);
  const reason = staleReason(example);
  if (reason) {
    throw new Error(`${reason}: npm test builds it (it needs Go 1.26+), or run: ${buildCommand}`);
  }
  return example.binary;
}

module.exports = { GO_EXAMPLES, builtGoExample, ensureGoExamples };

if (require.main === module) process.exit(ensureGoExamples() ? 0 : 1);

// Lets `require` load the project's TypeScript files: each .ts file is compiled by esbuild (the
// compiler tsx uses, with tsx's options) and the result kept in node_modules/.cache/rpa-ts, keyed by
// the file's path and content. It replaces tsx's require hook in bin/rpa because that hook also
// scans every JavaScript file of every package for ES module syntax: about half of each process's
// start-up, and `rpa start` starts four. Packages load as Node loads them; only .ts files are ours.
const { createHash } = require('node:crypto');
const { mkdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
// tsx's own esbuild: the same compiler, and no second copy to install.
const esbuild = require(
  require.resolve('esbuild', { paths: [path.dirname(require.resolve('tsx/package.json'))] }),
);
const options = {
  loader: 'ts',
  format: 'cjs',
  platform: 'node',
  target: `node${process.versions.node}`,
  tsconfigRaw: readFileSync(path.join(root, 'tsconfig.json'), 'utf8'),
  sourcemap: 'inline',
  sourcesContent: false,
  minifyWhitespace: true,
  keepNames: true,
};
const cacheDir = path.join(root, 'node_modules', '.cache', 'rpa-ts');
const version = createHash('sha256')
  .update(JSON.stringify([esbuild.version, options]))
  .digest('hex');
let cacheWritable = true;

function compile(source, filename) {
  const key = createHash('sha256').update(version).update(filename).update('\0').update(source).digest('hex');
  const cached = path.join(cacheDir, `${key}.js`);
  try {
    return readFileSync(cached, 'utf8');
  } catch {
    // not compiled yet
  }
  const { code } = esbuild.transformSync(source, { ...options, sourcefile: filename });
  if (cacheWritable) {
    // A read-only checkout (the Docker image) compiles in memory each time.
    try {
      mkdirSync(cacheDir, { recursive: true });
      const temporary = `${cached}.${process.pid}`;
      writeFileSync(temporary, code);
      renameSync(temporary, cached);
    } catch {
      cacheWritable = false;
    }
  }
  return code;
}

// Stack traces point into the .ts sources, as under tsx.
process.setSourceMapsEnabled(true);
require.extensions['.ts'] = (module, filename) => {
  module._compile(compile(readFileSync(filename, 'utf8'), filename), filename);
};

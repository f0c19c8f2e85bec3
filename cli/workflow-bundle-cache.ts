import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';

// Without a prebuilt bundle the control worker runs webpack over workflows/ on every start: seconds
// of CPU on each `rpa start`. The launcher keeps the bundle in LAUNCHER_CACHE_DIR instead (it
// depends on the code, not on the data), with the list of files webpack read to make it, and uses
// it while none of them has changed. Each build writes a file of its own, named in the manifest: a
// control worker told to use a bundle that is still being built finds either that build's bundle
// or nothing (and then bundles itself), never an older one.

const MANIFEST = 'manifest.json';

interface Manifest {
  key: string;
  bundle: string;
  sources: string[];
}

/** One hash over every source's path and content; null when one of them is gone. */
function keyOf(sources: string[]): string | null {
  const hash = createHash('sha256');
  for (const file of [...sources].sort()) {
    if (!existsSync(file)) return null;
    hash.update(file).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

/** The cached bundle's path while it matches the sources, else undefined. */
export function cachedWorkflowBundle(cacheDir: string): string | undefined {
  try {
    const manifest = JSON.parse(readFileSync(path.join(cacheDir, MANIFEST), 'utf8')) as Manifest;
    const bundle = path.join(cacheDir, manifest.bundle);
    if (!existsSync(bundle) || manifest.sources.length === 0) return undefined;
    return keyOf(manifest.sources) === manifest.key ? bundle : undefined;
  } catch {
    return undefined;
  }
}

/** Bundles the workflows (in this process) into `bundle` and makes it the cached one. */
export async function refreshWorkflowBundle(cacheDir: string, bundle: string): Promise<void> {
  const { bundleWorkflows } =
    require('../scripts/build-workflow-bundle') as typeof import('../scripts/build-workflow-bundle');
  const startedAt = Date.now();
  const { code, sources } = await bundleWorkflows();
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(`${bundle}.tmp`, code);
  renameSync(`${bundle}.tmp`, bundle);
  // A source edited while webpack ran may or may not be in the bundle: then it is not cached, and
  // the next start bundles again.
  const key = keyOf(sources);
  if (!key || sources.some((file) => statSync(file).mtimeMs >= startedAt)) return;
  const manifest = path.join(cacheDir, MANIFEST);
  const name = path.basename(bundle);
  writeFileSync(`${manifest}.tmp`, JSON.stringify({ key, bundle: name, sources } satisfies Manifest));
  renameSync(`${manifest}.tmp`, manifest);
  for (const file of readdirSync(cacheDir)) {
    if (file.startsWith('workflow-bundle-') && file !== name)
      rmSync(path.join(cacheDir, file), { force: true });
  }
}

/**
 * Runs refreshWorkflowBundle in a child process, so that webpack's CPU time does not stall the
 * launcher's event loop.
 */
export function refreshWorkflowBundleInChild(cacheDir: string): {
  process: ChildProcess;
  /** Where the bundle will be; nothing is there until the child is done. */
  bundle: string;
  done: Promise<string>;
} {
  const bundle = path.join(cacheDir, `workflow-bundle-${randomBytes(6).toString('hex')}.js`);
  const registerTs = path.join(__dirname, '..', 'bin', 'register-ts.js');
  // Its own process group, like the launcher's other children: its owner stops it.
  const child = spawn(process.execPath, ['--require', registerTs, __filename, cacheDir, bundle], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const done = new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve(bundle);
      else reject(new Error(`bundling the workflows failed (code ${code}):\n${output.trim()}`));
    });
  });
  done.catch(() => undefined);
  return { process: child, bundle, done };
}

if (require.main === module) {
  const [cacheDir, bundle] = process.argv.slice(2);
  if (!cacheDir || !bundle)
    throw new Error('usage: workflow-bundle-cache.ts <cache directory> <bundle file>');
  refreshWorkflowBundle(cacheDir, bundle).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}

import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { DocumentStoreFullError, DocumentStoreUnavailableError } from '../../domain/document-errors';
import type { DocumentStore } from '../../domain/document-store';

export const sha256Of = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

const SHA256 = /^[0-9a-f]{64}$/;

/** No room: the operator frees space, the client retries then. */
const FULL = new Set(['ENOSPC', 'EDQUOT']);
/**
 * The directory cannot be used now, though nothing is wrong with the request: a read-only or
 * vanished mount, an I/O or network-filesystem error, no file descriptors left. Any other code is a
 * bug and stays a 500.
 */
const UNAVAILABLE = new Set([
  'EROFS',
  'EIO',
  'EACCES',
  'EPERM',
  'ENOTDIR',
  'ENOENT',
  'ESTALE',
  'ENOTCONN',
  'ETIMEDOUT',
  'EMFILE',
  'ENFILE',
  'EBUSY',
  'EAGAIN',
]);

/** The domain's error for a filesystem failure the client should hear about as 507 or 503. */
function storeError(err: unknown, action: string): unknown {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === undefined) return err;
  let mapped: Error;
  if (FULL.has(code)) {
    mapped = new DocumentStoreFullError('The document store is full; the document was not stored.');
  } else if (UNAVAILABLE.has(code)) {
    mapped = new DocumentStoreUnavailableError(`The document store cannot ${action} documents now.`);
  } else {
    return err;
  }
  // The path and errno are for the log, not for the client.
  mapped.cause = err;
  return mapped;
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** The document store in a local directory. */
export class LocalDocumentStore implements DocumentStore {
  constructor(private readonly root: string) {}

  /** `ab/cd/abcd…`: two levels of fan-out keep directories small. Keys are validated hex only. */
  private pathOf(sha256: string): string {
    if (!SHA256.test(sha256)) throw new Error(`not a sha256 key: ${JSON.stringify(sha256)}`);
    return path.join(this.root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  async put(bytes: Buffer): Promise<{ sha256: string; created: boolean }> {
    const sha256 = sha256Of(bytes);
    const target = this.pathOf(sha256);
    try {
      if (await isFile(target)) {
        // Marked as just stored: retention's remove() leaves bytes an upload is about to use.
        const now = new Date();
        await utimes(target, now, now);
        return { sha256, created: false };
      }
      await mkdir(path.dirname(target), { recursive: true });
      await this.writeWhole(target, bytes);
    } catch (err) {
      throw storeError(err, 'store');
    }
    return { sha256, created: true };
  }

  /**
   * Written and synced under a temporary name in the same directory, then renamed: a reader sees
   * the whole file or none. A write that fails (a full disk fails it midway) removes its temp file,
   * whose partial bytes would otherwise hold the space; a crash leaves at most a stray temp file.
   */
  private async writeWhole(target: string, bytes: Buffer): Promise<void> {
    const temp = `${target}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      const handle = await open(temp, 'wx', 0o640);
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        // close() can report a deferred write error (NFS): it fails the put like the write would.
        await handle.close();
      }
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw err;
    }
  }

  async get(sha256: string): Promise<Buffer | null> {
    try {
      return await readFile(this.pathOf(sha256));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw storeError(err, 'read');
    }
  }

  async remove(sha256: string, unlessPutSince: Date): Promise<boolean> {
    const target = this.pathOf(sha256);
    try {
      const info = await stat(target);
      if (info.mtimeMs >= unlessPutSince.getTime()) return false;
      await rm(target, { force: true });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw storeError(err, 'remove');
    }
  }

  async exists(sha256: string): Promise<boolean> {
    try {
      return await isFile(this.pathOf(sha256));
    } catch (err) {
      throw storeError(err, 'read');
    }
  }
}

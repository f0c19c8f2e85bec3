import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { DocumentStore } from '../../domain/document-store';

export const sha256Of = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

const SHA256 = /^[0-9a-f]{64}$/;

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
    if (await this.exists(sha256)) return { sha256, created: false };
    await mkdir(path.dirname(target), { recursive: true });
    // Written and synced under a temporary name in the same directory, then renamed: a reader sees
    // the whole file or none, and a crash leaves at most a stray temp file.
    const temp = `${target}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    const handle = await open(temp, 'wx', 0o640);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    return { sha256, created: true };
  }

  async get(sha256: string): Promise<Buffer | null> {
    try {
      return await readFile(this.pathOf(sha256));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async exists(sha256: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(sha256))).isFile();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }
}

/**
 * Where document bytes live, addressed by the SHA-256 of the bytes: a put of bytes already stored
 * only marks them as just stored, so duplicates share one copy and a retried put is harmless. A local
 * directory or an S3-compatible bucket (core/adapters/document-store.factory.ts picks one from config).
 */
export interface DocumentStore {
  /** Stores the bytes; returns their SHA-256 and whether they were new. */
  put(bytes: Buffer): Promise<{ sha256: string; created: boolean }>;
  /** The bytes, or null if the store has no such key. */
  get(sha256: string): Promise<Buffer | null>;
  exists(sha256: string): Promise<boolean>;
  /**
   * Removes the bytes unless they were stored (or stored again: a put of bytes already there counts)
   * at or after `unlessPutSince`, so an upload racing the removal keeps its bytes. True if removed.
   */
  remove(sha256: string, unlessPutSince: Date): Promise<boolean>;
}

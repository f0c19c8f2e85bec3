/**
 * Where document bytes live, addressed by the SHA-256 of the bytes: a put of bytes already stored
 * is a no-op, so duplicates share one copy and a retried put is harmless. Local directory now; an
 * object store (S3, GCS) implements the same three calls.
 */
export interface DocumentStore {
  /** Stores the bytes; returns their SHA-256 and whether they were new. */
  put(bytes: Buffer): Promise<{ sha256: string; created: boolean }>;
  /** The bytes, or null if the store has no such key. */
  get(sha256: string): Promise<Buffer | null>;
  exists(sha256: string): Promise<boolean>;
}

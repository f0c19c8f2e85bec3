import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { DocumentStoreFullError, DocumentStoreUnavailableError } from '../../domain/document-errors';
import type { DocumentStore } from '../../domain/document-store';
import { sha256Of } from '../fs/document-store.local';

const SHA256 = /^[0-9a-f]{64}$/;

export interface S3DocumentStoreOptions {
  bucket: string;
  /** Prepended to every key (`documents/ab/cd/abcd…`), so the bucket can hold other things. */
  keyPrefix: string;
  endpoint?: string | undefined;
  region: string;
  forcePathStyle: boolean;
  /** Explicit keys; without them the SDK's default chain (AWS_* variables, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
  /** Per request, connect included: an unreachable server is a 503 in bounded time, not a hang. */
  timeoutMs: number;
}

/** S3 error codes that mean "no room" (a quota, a full volume server) rather than "not now". */
const FULL_CODES = new Set(['QuotaExceeded', 'InsufficientStorage', 'EntityTooLarge']);

/**
 * The domain's error for an S3 failure the client should hear about as 507 or 503. A server that
 * cannot be reached, answers 5xx, throttles, or refuses our credentials or bucket is "unavailable":
 * nothing is wrong with the request, the operator fixes the store. Anything else stays a 500.
 */
function storeError(err: unknown, action: string): unknown {
  let mapped: Error;
  if (isFull(err)) {
    mapped = new DocumentStoreFullError('The document store is full; the document was not stored.');
  } else if (isUnavailable(err)) {
    mapped = new DocumentStoreUnavailableError(`The document store cannot ${action} documents now.`);
  } else {
    return err;
  }
  // The bucket, endpoint and SDK error are for the log, not for the client.
  mapped.cause = err;
  return mapped;
}

function isFull(err: unknown): boolean {
  return (
    err instanceof S3ServiceException && (FULL_CODES.has(err.name) || err.$metadata.httpStatusCode === 507)
  );
}

const UNAVAILABLE_CODES = new Set([
  'NoSuchBucket',
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
]);

function isUnavailable(err: unknown): boolean {
  if (!(err instanceof S3ServiceException)) return isNetworkError(err);
  const status = err.$metadata.httpStatusCode ?? 0;
  return status >= 500 || status === 403 || status === 429 || UNAVAILABLE_CODES.has(err.name);
}

/** Node's socket and DNS error codes, as a code or inside a message. */
const NETWORK_CODE = /\b(E[A-Z]{4,}|EAI_AGAIN)\b|socket hang up/;

/**
 * Errors of the HTTP layer under the SDK: node:net codes, the SDK's timeout and abort errors. The
 * SDK's retry step may rewrap a socket error as a plain Error that keeps only its message (it does
 * so for errors from another realm, as under Jest), hence the message is read too.
 */
function isNetworkError(err: unknown): boolean {
  const e = err as { code?: unknown; name?: unknown; message?: unknown } | null;
  if (!e) return false;
  if (typeof e.code === 'string' && NETWORK_CODE.test(e.code)) return true;
  if (['TimeoutError', 'AbortError', 'RequestTimeout', 'NetworkingError'].includes(String(e.name)))
    return true;
  return typeof e.message === 'string' && NETWORK_CODE.test(e.message);
}

const isNotFound = (err: unknown) =>
  err instanceof S3ServiceException &&
  (err.name === 'NotFound' || err.name === 'NoSuchKey' || err.$metadata.httpStatusCode === 404);

/**
 * The document store in an S3-compatible bucket (AWS S3, MinIO, SeaweedFS, Ceph RGW), for API and
 * module workers on several hosts. Same contract as the local store: content-addressed, a put of
 * stored bytes is a no-op, and a PUT is atomic on S3 (an object is visible whole or not at all), so
 * a failed or interrupted upload leaves nothing behind.
 */
export class S3DocumentStore implements DocumentStore {
  private readonly client: S3Client;

  constructor(private readonly options: S3DocumentStoreOptions) {
    this.client = new S3Client({
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      // The SDK's own retries (3 attempts with backoff) stay; each attempt is bounded.
      requestHandler: {
        connectionTimeout: options.timeoutMs,
        requestTimeout: options.timeoutMs,
        throwOnRequestTimeout: true,
      },
    });
  }

  private keyOf(sha256: string): string {
    if (!SHA256.test(sha256)) throw new Error(`not a sha256 key: ${JSON.stringify(sha256)}`);
    return `${this.options.keyPrefix}${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`;
  }

  async put(bytes: Buffer): Promise<{ sha256: string; created: boolean }> {
    const sha256 = sha256Of(bytes);
    const Key = this.keyOf(sha256);
    try {
      // Bytes already there are written again all the same: the new LastModified marks them as
      // just stored, which retention's remove() respects (S3 has no cheaper "touch").
      const created = !(await this.head(Key));
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.options.bucket,
          Key,
          Body: bytes,
          ContentLength: bytes.length,
          // The server checks the bytes it got against this: a body cut short is refused, not stored.
          ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64'),
        }),
      );
      return { sha256, created };
    } catch (err) {
      throw storeError(err, 'store');
    }
  }

  async get(sha256: string): Promise<Buffer | null> {
    const Key = this.keyOf(sha256);
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key }));
      if (!answer.Body) return null;
      return Buffer.from(await answer.Body.transformToByteArray());
    } catch (err) {
      if (isNotFound(err)) return null;
      throw storeError(err, 'read');
    }
  }

  async exists(sha256: string): Promise<boolean> {
    try {
      return await this.head(this.keyOf(sha256));
    } catch (err) {
      throw storeError(err, 'read');
    }
  }

  /**
   * Removes the object unless it was stored (or stored again) at or after `unlessPutSince`: a put
   * of bytes already there rewrites them, which moves LastModified, so an upload racing the removal
   * keeps its bytes. Removing what is not there answers false (S3's DELETE succeeds either way).
   */
  async remove(sha256: string, unlessPutSince: Date): Promise<boolean> {
    const Key = this.keyOf(sha256);
    try {
      const modified = await this.lastModified(Key);
      if (modified === null || modified.getTime() >= unlessPutSince.getTime()) return false;
      await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key }));
      return true;
    } catch (err) {
      throw storeError(err, 'remove');
    }
  }

  private async lastModified(Key: string): Promise<Date | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key }));
      return head.LastModified ?? new Date(0);
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  private async head(Key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  close(): void {
    this.client.destroy();
  }
}

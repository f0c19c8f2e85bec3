import type { Config } from '../config';
import type { DocumentStore } from '../domain/document-store';
import { LocalDocumentStore } from './fs/document-store.local';
import { S3DocumentStore } from './s3/document-store.s3';

export type DocumentStoreConfig = Pick<
  Config,
  | 'DOCUMENTS_STORE'
  | 'DOCUMENTS_DIR'
  | 'S3_BUCKET'
  | 'S3_KEY_PREFIX'
  | 'S3_ENDPOINT'
  | 'S3_REGION'
  | 'S3_FORCE_PATH_STYLE'
  | 'S3_ACCESS_KEY_ID'
  | 'S3_SECRET_ACCESS_KEY'
  | 'S3_TIMEOUT_MS'
>;

/** The one place a document store is made, so the API and module workers always agree on where bytes live. */
export function createDocumentStore(config: DocumentStoreConfig): DocumentStore {
  if (config.DOCUMENTS_STORE === 'local') return new LocalDocumentStore(config.DOCUMENTS_DIR);
  // The config schema refuses DOCUMENTS_STORE=s3 without a bucket; this guards other callers.
  if (!config.S3_BUCKET) throw new Error('DOCUMENTS_STORE=s3 needs S3_BUCKET');
  return new S3DocumentStore({
    bucket: config.S3_BUCKET,
    keyPrefix: config.S3_KEY_PREFIX,
    endpoint: config.S3_ENDPOINT,
    region: config.S3_REGION,
    forcePathStyle: config.S3_FORCE_PATH_STYLE,
    credentials:
      config.S3_ACCESS_KEY_ID && config.S3_SECRET_ACCESS_KEY
        ? { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY }
        : undefined,
    timeoutMs: config.S3_TIMEOUT_MS,
  });
}

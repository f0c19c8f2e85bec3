import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import request from 'supertest';
import { sha256Of } from '../../core/adapters/fs/document-store.local';
import { S3DocumentStore } from '../../core/adapters/s3/document-store.s3';
import { DocumentStoreUnavailableError } from '../../core/domain/document-errors';
import type { RobotView } from '../../core/domain/robot';
import { fixture, pngDeclaring } from '../support/document-samples';
import { TestS3Server } from '../support/seaweedfs';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// DOCUMENTS_STORE=s3 (ADR 0057) against a real S3-compatible server (SeaweedFS on loopback): the API
// stores uploads in the bucket, a module worker's OCR reads them from there, a second API app reads
// the same document, and S3 down is a 503 that stores nothing and loses nothing.

const BUCKET = 'rpa-documents';
const s3 = new TestS3Server();
let system: TestSystem;
let documentsDir: string;

const storeOptions = () => ({
  bucket: BUCKET,
  keyPrefix: 'documents/',
  endpoint: s3.endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  timeoutMs: 10_000,
});

beforeAll(async () => {
  await s3.start();
  await s3.createBucket(BUCKET);
  // The local folder stays empty: it is there to show that nothing is written to it.
  documentsDir = await mkdtemp(path.join(tmpdir(), 'rpa-docs-s3-'));
  system = await startTestSystem({
    module: { robotTypes: ['invoice-intake'] },
    env: {
      DOCUMENTS_STORE: 's3',
      DOCUMENTS_DIR: documentsDir,
      S3_BUCKET: BUCKET,
      S3_ENDPOINT: s3.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      OCR_WORKERS: '1',
    },
  });
}, 120_000);

afterAll(async () => {
  await system?.close();
  await s3.remove();
  if (documentsDir) await rm(documentsDir, { recursive: true, force: true });
});

async function headObject(sha256: string): Promise<number | undefined> {
  const client = s3.client();
  try {
    const head = await client.send(
      new HeadObjectCommand({
        Bucket: BUCKET,
        Key: `documents/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`,
      }),
    );
    return head.ContentLength;
  } finally {
    client.destroy();
  }
}

let invoiceId: string;
const invoice = fixture('invoice-sans.png');

describe('documents in an S3-compatible bucket', () => {
  it('stores an upload in the bucket under its sha256, and nothing in the local folder', async () => {
    const res = await system.api.post('/v1/documents').attach('file', invoice, { filename: 'acme.png' });
    expect(res.status).toBe(201);
    expect(res.body.sha256).toBe(sha256Of(invoice));
    invoiceId = res.body.documentId;
    expect(await headObject(sha256Of(invoice))).toBe(invoice.length);
    expect(await readdir(documentsDir)).toEqual([]);
    // A repeat shares the stored object.
    const again = await system.api.post('/v1/documents').attach('file', invoice, { filename: 'again.png' });
    expect(again.status).toBe(201);
    expect(again.body.sha256).toBe(res.body.sha256);
  });

  it('is read by a module worker: OCR of the bucket object extracts the invoice fields', async () => {
    const created = await system.api
      .post('/v1/robots')
      .send({ type: 'invoice-intake', input: { documentId: invoiceId } });
    expect(created.status).toBe(201);
    await system.temporal.workflow
      .getHandle(created.body.robotId)
      .result()
      .catch(() => undefined);
    const robot = await eventually(async () => {
      const view = (await system.api.get(`/v1/robots/${created.body.robotId}`)).body as RobotView;
      return view.status === 'completed' || view.status === 'failed' ? view : undefined;
    }, 90_000);
    expect(robot.status).toBe('completed');
    const output = robot.output as Record<string, Record<string, unknown>>;
    expect(output['read-document']).toMatchObject({
      documentId: invoiceId,
      mediaType: 'image/png',
      pageCount: 1,
    });
    const fields = output['extract-fields']?.fields as Record<string, { value: unknown }>;
    expect(fields.invoiceNumber?.value).toBe('INV-2024-0042');
  }, 120_000);

  it('is served by a second API app (another host) from the same bucket', async () => {
    // Its own local folder, empty: only the bucket can answer.
    const otherDir = await mkdtemp(path.join(tmpdir(), 'rpa-docs-s3-other-'));
    try {
      const { app } = system.appFor({ config: { DOCUMENTS_DIR: otherDir } });
      const res = await request(app)
        .get(`/v1/documents/${invoiceId}/content`)
        .set('authorization', `Bearer ${system.adminKey}`)
        .buffer(true)
        .parse((response, done) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => done(null, Buffer.concat(chunks)));
        });
      expect(res.status).toBe(200);
      expect(sha256Of(res.body as Buffer)).toBe(sha256Of(invoice));
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it('removes only what was not stored since the cut-off; a put of stored bytes renews them', async () => {
    const store = new S3DocumentStore(storeOptions());
    try {
      const bytes = pngDeclaring(77, 55);
      const { sha256, created } = await store.put(bytes);
      expect(created).toBe(true);
      const afterFirstPut = new Date(Date.now() + 1000);
      // Stored before a cut-off in the past: kept.
      expect(await store.remove(sha256, new Date(Date.now() - 3_600_000))).toBe(false);
      expect(await store.exists(sha256)).toBe(true);
      // S3's LastModified has whole seconds: wait past them, then store the same bytes again.
      await new Promise((resolve) => setTimeout(resolve, 2100));
      expect((await store.put(bytes)).created).toBe(false);
      expect(await store.remove(sha256, afterFirstPut)).toBe(false);
      expect(await store.exists(sha256)).toBe(true);
      // Nothing stored since now: removed, once.
      expect(await store.remove(sha256, new Date(Date.now() + 60_000))).toBe(true);
      expect(await store.remove(sha256, new Date(Date.now() + 60_000))).toBe(false);
      expect(await store.exists(sha256)).toBe(false);
      expect(await store.get(sha256)).toBeNull();
      await expect(store.get('../etc/passwd')).rejects.toThrow(/not a sha256 key/);
    } finally {
      store.close();
    }
  });

  it('answers 503 with Retry-After while S3 is down, stores nothing, and loses nothing', async () => {
    await s3.kill();
    try {
      const bytes = pngDeclaring(321, 123);
      const res = await system.api
        .post('/v1/documents')
        .attach('file', bytes, { filename: 'during-outage.png', contentType: 'image/png' });
      expect({ status: res.status, type: res.body.type }).toEqual({
        status: 503,
        type: '/problems/service-unavailable',
      });
      expect(res.headers['retry-after']).toMatch(/^\d+$/);
      expect(res.body.detail).not.toContain(s3.endpoint);
      const rows = await system.sql.query('select count(*)::int as n from documents where sha256 = $1', [
        sha256Of(bytes),
      ]);
      expect(rows.rows[0].n).toBe(0);
      const read = await system.api.get(`/v1/documents/${invoiceId}/content`);
      expect(read.status).toBe(503);

      const store = new S3DocumentStore(storeOptions());
      try {
        await expect(store.exists(sha256Of(bytes))).rejects.toBeInstanceOf(DocumentStoreUnavailableError);
      } finally {
        store.close();
      }
    } finally {
      await s3.start();
    }
    // Back: the earlier document is whole, and the refused upload was never half-written.
    expect(await headObject(sha256Of(invoice))).toBe(invoice.length);
    const read = await system.api.get(`/v1/documents/${invoiceId}/content`);
    expect(read.status).toBe(200);
    await expect(headObject(sha256Of(pngDeclaring(321, 123)))).rejects.toMatchObject({ name: 'NotFound' });
    const retry = await system.api
      .post('/v1/documents')
      .attach('file', pngDeclaring(321, 123), { filename: 'after-outage.png', contentType: 'image/png' });
    expect(retry.status).toBe(201);
  }, 120_000);
});

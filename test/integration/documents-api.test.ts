import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { sha256Of } from '../../core/adapters/fs/document-store.local';
import { fixture, pngDeclaring, truncated } from '../support/document-samples';
import { startTestSystem, type TestSystem } from '../support/test-system';

let system: TestSystem;
let documentsDir: string;
const MAX_BYTES = 200_000;

beforeAll(async () => {
  documentsDir = await mkdtemp(path.join(tmpdir(), 'rpa-docs-api-'));
  system = await startTestSystem({
    module: false,
    env: {
      DOCUMENTS_DIR: documentsDir,
      DOCUMENT_MAX_BYTES: String(MAX_BYTES),
      DOCUMENT_MAX_PIXELS: '25000000',
    },
  });
});

afterAll(async () => {
  await system?.close();
  await rm(documentsDir, { recursive: true, force: true });
});

/** A multipart body written by hand, so the file name reaches the server exactly as given. */
function rawUpload(filename: string, bytes: Buffer) {
  const boundary = 'rpa-test-boundary';
  const head = `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="${filename}"\r\ncontent-type: image/png\r\n\r\n`;
  const body = Buffer.concat([Buffer.from(head, 'latin1'), bytes, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  return system.api
    .post('/v1/documents')
    .set('content-type', `multipart/form-data; boundary=${boundary}`)
    .send(body);
}

const upload = (bytes: Buffer, filename = 'upload.bin', contentType = 'application/octet-stream') =>
  system.api.post('/v1/documents').attach('file', bytes, { filename, contentType });

function expectProblem(res: request.Response, status: number, type: string) {
  expect({ status: res.status, type: res.body.type }).toEqual({ status, type });
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body.detail).toEqual(expect.any(String));
}

describe('POST /v1/documents', () => {
  it('stores an image by its content, with its header dimensions, and serves it back', async () => {
    const bytes = fixture('invoice-sans.png');
    // The declared name and type lie; the bytes decide.
    const res = await upload(bytes, 'scan.pdf', 'application/pdf');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      sha256: sha256Of(bytes),
      mediaType: 'image/png',
      sizeBytes: bytes.length,
      width: 1240,
      pages: 1,
      originalName: 'scan.pdf',
      deduplicated: false,
    });
    expect(res.headers.location).toBe(`/v1/documents/${res.body.documentId}`);

    const meta = await system.api.get(`/v1/documents/${res.body.documentId}`);
    expect(meta.status).toBe(200);
    expect(meta.body.sha256).toBe(sha256Of(bytes));

    const content = await system.api
      .get(`/v1/documents/${res.body.documentId}/content`)
      .buffer(true)
      .parse((response, done) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => done(null, Buffer.concat(chunks)));
      });
    expect(content.status).toBe(200);
    expect(content.headers['content-type']).toBe('image/png');
    expect(content.headers['content-disposition']).toBe('attachment; filename=scan.pdf');
    expect((content.body as Buffer).equals(bytes)).toBe(true);
  });

  it('accepts JPEG, TIFF and PDF; a second upload of the same bytes shares the stored copy', async () => {
    const jpeg = await upload(fixture('receipt.jpg'), 'receipt.jpg');
    const tiff = await upload(fixture('invoice.tiff'), 'invoice.tiff');
    const pdf = await upload(fixture('invoice-scanned-2p.pdf'), 'scan.pdf');
    expect([jpeg.body.mediaType, tiff.body.mediaType, pdf.body.mediaType]).toEqual([
      'image/jpeg',
      'image/tiff',
      'application/pdf',
    ]);
    expect(pdf.body.pages).toBe(2);
    const again = await upload(fixture('receipt.jpg'), 'copy.jpg');
    expect(again.status).toBe(201);
    expect(again.body.documentId).not.toBe(jpeg.body.documentId);
    expect(again.body).toMatchObject({
      sha256: jpeg.body.sha256,
      deduplicated: true,
      originalName: 'copy.jpg',
    });
  });

  it('refuses a file that is not PNG, JPEG, TIFF or PDF with 415, whatever its name says', async () => {
    expectProblem(
      await upload(Buffer.from('Invoice 42: total 10 EUR'), 'invoice.png', 'image/png'),
      415,
      '/problems/unsupported-media-type',
    );
    expectProblem(
      await upload(Buffer.from('GIF89a\u0001\u0000'), 'a.gif'),
      415,
      '/problems/unsupported-media-type',
    );
  });

  it('refuses a body that is not multipart with 415', async () => {
    const res = await system.api
      .post('/v1/documents')
      .set('content-type', 'image/png')
      .send(fixture('receipt.jpg'));
    expectProblem(res, 415, '/problems/unsupported-media-type');
  });

  it('refuses a file over DOCUMENT_MAX_BYTES with 413', async () => {
    const big = Buffer.concat([fixture('invoice-sans.png'), Buffer.alloc(MAX_BYTES)]);
    expectProblem(await upload(big, 'big.png'), 413, '/problems/document-too-large');
  });

  it('refuses a decompression bomb from its header with 422', async () => {
    const bomb = pngDeclaring(50_000, 50_000);
    expect(bomb.length).toBeLessThan(2000);
    const res = await upload(bomb, 'bomb.png');
    expectProblem(res, 422, '/problems/image-too-large');
    expect(res.body).toMatchObject({ width: 50_000, height: 50_000 });
  });

  it('refuses an empty file (422), an image whose header is unreadable (422), and no file (400)', async () => {
    expectProblem(await upload(Buffer.alloc(0), 'empty.png'), 422, '/problems/empty-document');
    const brokenHeader = Buffer.concat([fixture('invoice-sans.png').subarray(0, 8), Buffer.from('garbage')]);
    expectProblem(await upload(brokenHeader, 'broken.png'), 422, '/problems/unreadable-document');
    const none = await system.api.post('/v1/documents').field('note', 'no file here');
    expectProblem(none, 400, '/problems/validation-error');
  });

  it('takes an image whose pixel data is cut off (the header is fine): the ocr step finds out', async () => {
    const res = await upload(truncated(fixture('invoice-sans.png')), 'cut.png');
    expect(res.status).toBe(201);
  });

  it.each(['../../etc/passwd.png', '..\\evil.png', '/tmp/x.png', 'C:evil.png', 'tab\there.png'])(
    'refuses the path trick %j in the file name with 400, storing nothing',
    async (filename) => {
      const bytes = pngDeclaring(3, 3 + filename.length);
      const res = await rawUpload(filename, bytes);
      expectProblem(res, 400, '/problems/validation-error');
      expect(res.body.errors).toEqual([{ field: 'file.filename', message: 'must be a plain file name' }]);
      const rows = await system.sql.query('select count(*)::int as n from documents where sha256 = $1', [
        sha256Of(bytes),
      ]);
      expect(rows.rows[0].n).toBe(0);
    },
  );

  it('refuses a NUL in the file name: the multipart header itself is malformed (400)', async () => {
    const bytes = pngDeclaring(4, 4);
    expectProblem(await rawUpload('a\u0000.png', bytes), 400, '/problems/validation-error');
    const rows = await system.sql.query('select count(*)::int as n from documents where sha256 = $1', [
      sha256Of(bytes),
    ]);
    expect(rows.rows[0].n).toBe(0);
  });

  it('answers 503 with Retry-After when the documents directory cannot be used, and stores nothing', async () => {
    // DOCUMENTS_DIR under a regular file: every filesystem call on it fails (ENOTDIR), as on a
    // vanished or broken mount. A full one is test/chaos/disk-full.test.ts (507).
    const notADirectory = path.join(documentsDir, 'not-a-directory');
    await writeFile(notADirectory, 'x');
    const { app } = system.appFor({ config: { DOCUMENTS_DIR: path.join(notADirectory, 'documents') } });
    const bytes = pngDeclaring(321, 123);
    const res = await request(app)
      .post('/v1/documents')
      .set('authorization', `Bearer ${system.adminKey}`)
      .attach('file', bytes, { filename: 'scan.png', contentType: 'image/png' });
    expectProblem(res, 503, '/problems/service-unavailable');
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    expect(res.body.detail).not.toContain(notADirectory);
    const rows = await system.sql.query('select count(*)::int as n from documents where sha256 = $1', [
      sha256Of(bytes),
    ]);
    expect(rows.rows[0].n).toBe(0);
  });

  it('is documented in /openapi.json with its storage answers: 507 full, 503 unusable', async () => {
    const { body } = await system.api.get('/openapi.json');
    expect(Object.keys(body.paths['/v1/documents'].post.responses)).toEqual(
      expect.arrayContaining(['201', '503', '507']),
    );
  });

  it('answers 404 for an unknown id and 400 for a malformed one', async () => {
    expectProblem(
      await system.api.get('/v1/documents/00000000-0000-4000-8000-000000000000'),
      404,
      '/problems/not-found',
    );
    expectProblem(await system.api.get('/v1/documents/nope/content'), 400, '/problems/validation-error');
  });
});

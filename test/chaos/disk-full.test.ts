import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestSystem, type TestSystem } from '../support/test-system';
import { type ApiOnTmpfs, startApiOnTmpfs } from './support/api-on-tmpfs';
import { bySize, recordScenario } from './support/report';

// Scenario "documents disk full" (issue 16): the documents directory fills up while clients upload.
// Every upload is answered 201 (its bytes whole on disk, readable back) or 507 (nothing of it kept:
// no temp file, no row); after space is freed, uploads are taken again. The disk is a real tmpfs of a
// few MB under a real `rpa api` process; a filler file takes all but HEADROOM of it each round, and
// removing the filler is "the operator frees space".

const startedAt = Date.now();
const ROUNDS = bySize({ short: 2, full: 5 });
const UPLOADS_PER_ROUND = bySize({ short: 12, full: 30 });
const CONCURRENCY = 3;
const HEADROOM = 1024 * 1024;
const MIN_DOCUMENT = 96 * 1024;
const MAX_DOCUMENT = 320 * 1024;
// Each round keeps about HEADROOM of accepted documents plus the recovery upload.
const TMPFS_SIZE = `${ROUNDS * 2 + 2}m`;

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A PDF (judged by its bytes) of `size` bytes that no other call makes. */
function uniquePdf(size: number): Buffer {
  const head = Buffer.from('%PDF-1.4\n%');
  const tail = Buffer.from('\n%%EOF\n');
  return Buffer.concat([head, randomBytes(size - head.length - tail.length), tail]);
}

const documentSize = () => MIN_DOCUMENT + Math.floor(Math.random() * (MAX_DOCUMENT - MIN_DOCUMENT));

interface Answer {
  status: number;
  contentType: string | null;
  body: Record<string, unknown>;
}

let system: TestSystem;
let api: ApiOnTmpfs | undefined;
let mountPoint: string;

beforeAll(async () => {
  system = await startTestSystem({ module: false });
  mountPoint = mkdtempSync(path.join(os.tmpdir(), 'rpa-documents-full-'));
  api = await startApiOnTmpfs(system.config, mountPoint, TMPFS_SIZE);
}, 90_000);

afterAll(async () => {
  await api?.stop();
  // The tmpfs lived in the API's mount namespace and went with it: what is left is an empty directory.
  if (mountPoint) rmSync(mountPoint, { recursive: true, force: true });
  await system?.close();
});

async function upload(bytes: Buffer): Promise<Answer> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)], { type: 'application/pdf' }), 'scan.pdf');
  const res = await fetch(`${api?.url}/v1/documents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${system.adminKey}` },
    body: form,
  });
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { unparsed: text };
  }
  return { status: res.status, contentType: res.headers.get('content-type'), body };
}

async function content(documentId: string): Promise<Buffer | null> {
  const res = await fetch(`${api?.url}/v1/documents/${documentId}/content`, {
    headers: { authorization: `Bearer ${system.adminKey}` },
  });
  return res.ok ? Buffer.from(await res.arrayBuffer()) : null;
}

/** Every file under the documents directory, relative to it. */
function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(prefix, entry.name);
    return entry.isDirectory() ? filesUnder(path.join(dir, entry.name), relative) : [relative];
  });
}

it('answers 507 with nothing half-kept while the documents disk is full, and takes uploads once space is freed', async () => {
  if (!api) throw new Error('no API');
  const documentsDir = api.documentsDir;
  const filler = path.join(documentsDir, 'filler');
  /** Every upload answered 201: what was sent, and the document it became. */
  const accepted: { documentId: string; sha256: string }[] = [];
  const refused: { sha256: string; answer: Answer }[] = [];
  const unexpected: { status: number; type: unknown }[] = [];
  const recoveryMs: number[] = [];
  /** Per round: the disk must have taken some uploads and refused some, or the round proved nothing. */
  const rounds: { accepted: number; refused: number }[] = [];
  let attempted = 0;

  const attempt = async (bytes: Buffer): Promise<Answer> => {
    attempted += 1;
    const answer = await upload(bytes);
    if (answer.status === 201) {
      accepted.push({ documentId: String(answer.body.documentId), sha256: sha256(bytes) });
    } else if (answer.status === 507) {
      refused.push({ sha256: sha256(bytes), answer });
    } else {
      unexpected.push({ status: answer.status, type: answer.body.type });
    }
    return answer;
  };

  for (let round = 0; round < ROUNDS; round++) {
    // The disk is nearly full before the round's uploads start; they take what is left.
    const free = api.freeBytes();
    expect(free).toBeGreaterThan(HEADROOM + MAX_DOCUMENT);
    writeFileSync(filler, Buffer.alloc(free - HEADROOM));
    const refusedBefore = refused.length;
    const acceptedBefore = accepted.length;

    let queued = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (queued < UPLOADS_PER_ROUND) {
          queued += 1;
          await attempt(uniquePdf(documentSize()));
        }
      }),
    );
    // Bytes already stored take no room: their upload is taken even now.
    const again = accepted[acceptedBefore];
    if (again) {
      const bytes = await content(again.documentId);
      expect(bytes && sha256(bytes)).toBe(again.sha256);
      if (bytes) expect((await attempt(bytes)).body).toMatchObject({ deduplicated: true });
    }
    rounds.push({ accepted: accepted.length - acceptedBefore, refused: refused.length - refusedBefore });

    // The operator frees space; the next upload is taken.
    unlinkSync(filler);
    const freedAt = Date.now();
    while (Date.now() - freedAt < 10_000) {
      if ((await attempt(uniquePdf(documentSize()))).status === 201) {
        recoveryMs.push(Date.now() - freedAt);
        break;
      }
    }
  }

  // What is on the disk: complete documents under their sha256, and nothing else.
  const files = filesUnder(documentsDir);
  const halfWritten = files.filter((file) => {
    const name = path.basename(file);
    if (!/^[0-9a-f]{64}$/.test(name) || file !== path.join(name.slice(0, 2), name.slice(2, 4), name))
      return true;
    return sha256(readFileSync(path.join(documentsDir, file))) !== name;
  });
  const onDisk = new Set(files.map((file) => path.basename(file)));
  const { rows } = await system.sql.query<{ document_id: string; sha256: string; size_bytes: number }>(
    'select document_id, sha256, size_bytes from documents',
  );
  const orphanRows = rows.filter(
    (row) =>
      !onDisk.has(row.sha256) ||
      statSync(path.join(documentsDir, row.sha256.slice(0, 2), row.sha256.slice(2, 4), row.sha256)).size !==
        row.size_bytes,
  );
  // A refused upload left neither its bytes nor its row.
  const keptRefusals = refused.filter(
    ({ sha256: hash }) => onDisk.has(hash) || rows.some((row) => row.sha256 === hash),
  );

  // Every 201 is a document whose bytes read back as sent.
  let lost = 0;
  for (const { documentId, sha256: hash } of accepted) {
    const bytes = await content(documentId);
    if (!bytes || sha256(bytes) !== hash) lost += 1;
  }

  // One comparison, so a failure shows every broken invariant at once.
  expect({
    unexpected,
    halfWritten,
    orphanRows,
    keptRefusals,
    lost,
    rows: rows.length,
    recoveredRounds: recoveryMs.length,
  }).toEqual({
    unexpected: [],
    halfWritten: [],
    orphanRows: [],
    keptRefusals: [],
    lost: 0,
    rows: accepted.length,
    recoveredRounds: ROUNDS,
  });
  // Each refusal is a problem document like the API's other errors.
  for (const { answer } of refused) {
    expect(answer.contentType).toMatch(/^application\/problem\+json/);
    expect(answer.body).toMatchObject({ type: '/problems/insufficient-storage', status: 507 });
  }
  for (const round of rounds) {
    expect(round.accepted).toBeGreaterThan(0);
    expect(round.refused).toBeGreaterThan(0);
  }

  recordScenario(
    {
      scenario: 'documents disk full',
      robots: attempted,
      faults: refused.length,
      lost,
      duplicated: halfWritten.length + orphanRows.length,
      recoveryMs,
      sinks: { accepted: accepted.length, refused: refused.length },
      note: `${ROUNDS} rounds of ${UPLOADS_PER_ROUND} uploads (${CONCURRENCY} at a time) into a ${TMPFS_SIZE} tmpfs left ${HEADROOM / 1024} KiB free`,
    },
    startedAt,
  );
}, 120_000);

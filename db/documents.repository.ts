import { eq } from 'drizzle-orm';
import type { Database } from './client';
import { type DocumentRow, documents } from './schema';

export type NewDocument = Omit<DocumentRow, 'documentId' | 'createdAt'>;

export class DocumentsRepository {
  constructor(
    private readonly db: Database,
    private readonly readDb: Database = db,
  ) {}

  async insert(document: NewDocument): Promise<DocumentRow> {
    const [row] = await this.db.insert(documents).values(document).returning();
    if (!row) throw new Error('insert into documents returned no row');
    return row;
  }

  async findById(documentId: string): Promise<DocumentRow | null> {
    // The write handle: a document is read right after its upload, before a replica may have it.
    const rows = await this.db.select().from(documents).where(eq(documents.documentId, documentId)).limit(1);
    return rows[0] ?? null;
  }

  async countBySha256(sha256: string): Promise<number> {
    return (await this.readDb.select().from(documents).where(eq(documents.sha256, sha256))).length;
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { desc, eq, getTableColumns, inArray, sql } from 'drizzle-orm';
import { DATABASE, type DatabaseConnection } from '../db/database.js';
import { type Upload, uploads } from '../db/schema.js';

export type NewUpload = Omit<Upload, 'createdAt' | 'updatedAt'>;

/** Every column but the text (up to 2,000,000 characters), which `create` already has. */
const { text: _text, ...withoutText } = getTableColumns(uploads);

/** Uploaded files and their extracted text in PostgreSQL. */
@Injectable()
export class UploadRepository {
  constructor(@Inject(DATABASE) private readonly database: DatabaseConnection) {}

  /** Inserts the upload; the row comes back without its text, which is taken from `upload`. */
  async create(upload: NewUpload): Promise<Upload> {
    const [row] = await this.database.db.insert(uploads).values(upload).returning(withoutText);
    return { ...row!, text: upload.text };
  }

  async get(id: string): Promise<Upload | undefined> {
    const [row] = await this.database.db.select().from(uploads).where(eq(uploads.id, id));
    return row;
  }

  /** One user's uploads, newest first, and how many there are in all. */
  async listByUser(userId: string, page: { offset: number; limit: number }): Promise<{ items: Upload[]; total: number }> {
    const where = eq(uploads.userId, userId);
    const [items, [count]] = await Promise.all([
      this.database.db.select().from(uploads).where(where).orderBy(desc(uploads.createdAt), desc(uploads.id)).offset(page.offset).limit(page.limit),
      this.database.db.select({ total: sql<number>`count(*)::int` }).from(uploads).where(where),
    ]);
    return { items, total: Number(count?.total ?? 0) };
  }

  async delete(id: string): Promise<void> {
    await this.database.db.delete(uploads).where(eq(uploads.id, id));
  }

  list(ids: string[]): Promise<Upload[]> {
    if (!ids.length) return Promise.resolve([]);
    return this.database.db.select().from(uploads).where(inArray(uploads.id, ids));
  }
}

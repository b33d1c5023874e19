import { Inject, Injectable } from '@nestjs/common';
import { eq, inArray } from 'drizzle-orm';
import { DATABASE, type DatabaseConnection } from '../db/database.js';
import { type Upload, uploads } from '../db/schema.js';

export type NewUpload = Omit<Upload, 'createdAt' | 'updatedAt'>;

/** Uploaded files and their extracted text in PostgreSQL. */
@Injectable()
export class UploadRepository {
  constructor(@Inject(DATABASE) private readonly database: DatabaseConnection) {}

  async create(upload: NewUpload): Promise<Upload> {
    const [row] = await this.database.db.insert(uploads).values(upload).returning();
    return row!;
  }

  async get(id: string): Promise<Upload | undefined> {
    const [row] = await this.database.db.select().from(uploads).where(eq(uploads.id, id));
    return row;
  }

  list(ids: string[]): Promise<Upload[]> {
    if (!ids.length) return Promise.resolve([]);
    return this.database.db.select().from(uploads).where(inArray(uploads.id, ids));
  }
}

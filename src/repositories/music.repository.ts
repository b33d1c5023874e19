import { Inject, Injectable } from '@nestjs/common';
import { eq } from 'drizzle-orm';
import { DATABASE, type DatabaseConnection } from '../db/database.js';
import { type MusicFile, musicFiles } from '../db/schema.js';

export type NewMusicFile = Omit<MusicFile, 'createdAt' | 'updatedAt'>;

/** Music files (background music for videos) in PostgreSQL. */
@Injectable()
export class MusicRepository {
  constructor(@Inject(DATABASE) private readonly database: DatabaseConnection) {}

  async create(file: NewMusicFile): Promise<MusicFile> {
    const [row] = await this.database.db.insert(musicFiles).values(file).returning();
    return row!;
  }

  async get(id: string): Promise<MusicFile | undefined> {
    const [row] = await this.database.db.select().from(musicFiles).where(eq(musicFiles.id, id));
    return row;
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { and, desc, eq, isNull, lt, or } from 'drizzle-orm';
import { DATABASE, type DatabaseConnection } from '../db/database.js';
import { type ApiKey, apiKeys, type User, users } from '../db/schema.js';

/** Personal API keys in PostgreSQL (hashes only). Queries only; the rules live in services. */
@Injectable()
export class ApiKeyRepository {
  constructor(@Inject(DATABASE) private readonly database: DatabaseConnection) {}

  async create(key: Pick<ApiKey, 'userId' | 'name' | 'prefix' | 'keyHash'>): Promise<ApiKey> {
    const [row] = await this.database.db.insert(apiKeys).values(key).returning();
    return row!;
  }

  /** The key with this hash and its owner. */
  async findByHash(keyHash: string): Promise<{ key: ApiKey; user: User } | undefined> {
    const [row] = await this.database.db
      .select({ key: apiKeys, user: users })
      .from(apiKeys)
      .innerJoin(users, eq(users.id, apiKeys.userId))
      .where(eq(apiKeys.keyHash, keyHash));
    return row;
  }

  listByUser(userId: string): Promise<ApiKey[]> {
    return this.database.db.select().from(apiKeys).where(eq(apiKeys.userId, userId)).orderBy(desc(apiKeys.createdAt));
  }

  /** @returns true when the user had a key with this id (and now has not). */
  async delete(userId: string, id: string): Promise<boolean> {
    const rows = await this.database.db
      .delete(apiKeys)
      .where(and(eq(apiKeys.id, id), eq(apiKeys.userId, userId)))
      .returning({ id: apiKeys.id });
    return rows.length > 0;
  }

  /** Records a use, at most once per `minIntervalMs` (so that busy scripts do not write on every request). */
  async touch(id: string, now: Date, minIntervalMs: number): Promise<void> {
    await this.database.db
      .update(apiKeys)
      .set({ lastUsedAt: now })
      .where(and(eq(apiKeys.id, id), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, new Date(now.getTime() - minIntervalMs)))));
  }
}

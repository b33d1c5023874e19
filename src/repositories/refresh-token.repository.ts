import { Inject, Injectable } from '@nestjs/common';
import { and, eq, isNull } from 'drizzle-orm';
import { DATABASE, type DatabaseConnection } from '../db/database.js';
import { type RefreshToken, refreshTokens } from '../db/schema.js';

/** Sign-in sessions and the hashes of their refresh tokens in PostgreSQL. */
@Injectable()
export class RefreshTokenRepository {
  constructor(@Inject(DATABASE) private readonly database: DatabaseConnection) {}

  async create(session: Pick<RefreshToken, 'id' | 'userId' | 'tokenHash' | 'expiresAt'>): Promise<RefreshToken> {
    const [row] = await this.database.db.insert(refreshTokens).values(session).returning();
    return row!;
  }

  async get(id: string): Promise<RefreshToken | undefined> {
    const [row] = await this.database.db.select().from(refreshTokens).where(eq(refreshTokens.id, id));
    return row;
  }

  /**
   * Replaces the session's token hash, only if it still holds `expectedHash` and is not revoked.
   * @returns true when this call rotated it (so a token can be used for one refresh only).
   */
  async rotate(id: string, expectedHash: string, next: { tokenHash: string; expiresAt: Date; lastUsedAt: Date }): Promise<boolean> {
    const rows = await this.database.db
      .update(refreshTokens)
      .set(next)
      .where(and(eq(refreshTokens.id, id), eq(refreshTokens.tokenHash, expectedHash), isNull(refreshTokens.revokedAt)))
      .returning({ id: refreshTokens.id });
    return rows.length > 0;
  }

  async revoke(id: string, at: Date): Promise<void> {
    await this.database.db
      .update(refreshTokens)
      .set({ revokedAt: at })
      .where(and(eq(refreshTokens.id, id), isNull(refreshTokens.revokedAt)));
  }

  async revokeAllOfUser(userId: string, at: Date): Promise<void> {
    await this.database.db
      .update(refreshTokens)
      .set({ revokedAt: at })
      .where(and(eq(refreshTokens.userId, userId), isNull(refreshTokens.revokedAt)));
  }
}

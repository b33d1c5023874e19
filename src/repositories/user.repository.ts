import { Inject, Injectable } from '@nestjs/common';
import { eq } from 'drizzle-orm';
import { DATABASE, type DatabaseConnection } from '../db/database.js';
import { type User, users } from '../db/schema.js';

/** User accounts in PostgreSQL. */
@Injectable()
export class UserRepository {
  constructor(@Inject(DATABASE) private readonly database: DatabaseConnection) {}

  async get(id: string): Promise<User | undefined> {
    const [row] = await this.database.db.select().from(users).where(eq(users.id, id));
    return row;
  }

  /**
   * Inserts a user.
   * @returns the new user, or undefined when the email is taken.
   */
  async create(user: { email: string; passwordHash: string; displayName?: string | null; isAdmin?: boolean }): Promise<User | undefined> {
    const [row] = await this.database.db
      .insert(users)
      .values(user)
      .onConflictDoNothing({ target: users.email })
      .returning();
    return row;
  }

  async findByEmail(email: string): Promise<User | undefined> {
    const [row] = await this.database.db.select().from(users).where(eq(users.email, email));
    return row;
  }

  /** Returns the user with this email, creating it (without a password) when missing. */
  async ensure(email: string, displayName: string): Promise<User> {
    await this.database.db.insert(users).values({ email, displayName }).onConflictDoNothing({ target: users.email });
    const user = await this.findByEmail(email);
    if (!user) throw new Error(`Could not create user ${email}`);
    return user;
  }
}

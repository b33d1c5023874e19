import type { AppConfig } from '../config/config.js';
import { DataDirInUseError, openDatabase } from '../db/database.js';
import { ApiError } from '../shared/api-error.js';
import { ApiKeyRepository } from '../repositories/api-key.repository.js';
import { UserRepository } from '../repositories/user.repository.js';
import { AccountService } from '../services/account.service.js';

/**
 * Opens the database, runs `work` with the account service, and closes the database.
 * @throws Error saying what to do instead when `storyforge serve` holds the embedded database
 * (the command then exits 2).
 */
async function withAccounts<T>(config: AppConfig, work: (accounts: AccountService) => Promise<T>): Promise<T> {
  const connection = await openDatabase(config).catch((error: unknown) => {
    if (!(error instanceof DataDirInUseError)) throw error;
    throw new Error(
      `${error.message}\nWhile \`storyforge serve\` runs on this data directory, make accounts and keys over its HTTP API instead: ` +
        'POST /auth/register {"email","password"} makes a user, and POST /api-keys {"name"} (signed in) makes an API key. ' +
        'Or stop serve, run this command, and start serve again.',
    );
  });
  try {
    return await work(new AccountService(new UserRepository(connection), new ApiKeyRepository(connection)));
  } catch (error) {
    // The service speaks HTTP errors; the command line shows their message only.
    if (error instanceof ApiError) throw new Error(error.body.message);
    throw error;
  } finally {
    await connection.close();
  }
}

/**
 * `storyforge user create --email E --password P [--name N] [--admin]`: makes an account that can
 * log in; `--admin` also lets it open the queue dashboard (/admin/queues).
 * Prints the user's id. @throws Error when the email is taken or the password is too short.
 */
export async function userCreateCommand(config: AppConfig, options: { email: string; password: string; name?: string; admin?: boolean }): Promise<void> {
  const user = await withAccounts(config, (accounts) =>
    accounts.createUser({ email: options.email, password: options.password, displayName: options.name, isAdmin: options.admin ?? false }),
  );
  process.stdout.write(`Created ${user.isAdmin ? 'admin' : 'user'} ${user.email} (${user.id})\n`);
}

/**
 * `storyforge apikey create --email E [--name N]`: makes an API key for a user and prints it.
 * The key is shown this once; only its hash is kept. @throws Error when no user has the email.
 */
export async function apiKeyCreateCommand(config: AppConfig, options: { email: string; name: string }): Promise<void> {
  const { apiKey, key } = await withAccounts(config, async (accounts) => {
    const user = await accounts.getUserByEmail(options.email);
    return accounts.createApiKey(user.id, options.name);
  });
  process.stderr.write(`API key "${apiKey.name}" (${apiKey.prefix}…) for ${options.email}; it is shown this once:\n`);
  process.stdout.write(`${key}\n`);
}

import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { AppConfig } from '../config/config.js';

/** File in DATA_DIR that keeps the generated signing secret when JWT_SECRET is not set. */
export const JWT_SECRET_FILE = 'jwt-secret';

/**
 * The secret that signs access and refresh tokens: JWT_SECRET when set; otherwise the one kept in
 * `DATA_DIR/jwt-secret`, made (64 random bytes, hex, mode 0600) on first start, so restarts keep
 * sessions. Creation is atomic: processes starting together agree on one secret.
 * @throws Error when the file exists but holds fewer than 32 characters, or cannot be written.
 */
export async function resolveJwtSecret(config: AppConfig): Promise<string> {
  if (config.auth.jwtSecret) return config.auth.jwtSecret;
  const file = path.join(config.dataDir, JWT_SECRET_FILE);
  const existing = await readSecret(file);
  if (existing !== undefined) return existing;
  await fs.mkdir(config.dataDir, { recursive: true });
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await fs.writeFile(temp, `${randomBytes(64).toString('hex')}\n`, { mode: 0o600 });
  try {
    await fs.link(temp, file); // fails when another process made it first; theirs wins
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await fs.rm(temp, { force: true });
  }
  const secret = await readSecret(file);
  if (secret === undefined) throw new Error(`Could not create ${file}`);
  return secret;
}

async function readSecret(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const secret = text.trim();
  if (secret.length < 32) throw new Error(`${file} holds a secret shorter than 32 characters; delete it to make a new one (signs everyone out)`);
  return secret;
}

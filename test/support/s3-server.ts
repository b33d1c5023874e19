import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';

/** The access key pair s3rver accepts (its defaults); given to the AWS SDK through the usual variables. */
export const S3_TEST_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' } as const;

export interface TestS3Server {
  /** e.g. `http://127.0.0.1:41234`. */
  endpoint: string;
  bucket: string;
  /** The variables that point Storyforge at the bucket (STORAGE_DRIVER=s3, credentials included). */
  env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * Starts a local S3-protocol server (s3rver) on a free port of 127.0.0.1, with one empty bucket,
 * keeping its objects in a new temporary folder that {@link TestS3Server.close} removes.
 */
export async function startS3Server(options: { bucket?: string } = {}): Promise<TestS3Server> {
  const bucket = options.bucket ?? 'storyforge-test';
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-s3-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    env: {
      STORAGE_DRIVER: 's3',
      S3_BUCKET: bucket,
      S3_ENDPOINT: endpoint,
      S3_REGION: 'us-east-1',
      S3_FORCE_PATH_STYLE: 'true',
      ...S3_TEST_CREDENTIALS,
    },
    close: async () => {
      await server.close();
      await fs.rm(directory, { recursive: true, force: true });
    },
  };
}

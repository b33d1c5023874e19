import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Job, Queue } from 'bullmq';
import { inArray } from 'drizzle-orm';
import type { NextFunction, Request, Response } from 'express';
import { cookieCredential, credentialFrom } from '../auth/credentials.js';
import { DATABASE, type DatabaseConnection } from '../db/database.js';
import { stories } from '../db/schema.js';
import { QueueRepository } from '../repositories/queue.repository.js';
import { UserRepository } from '../repositories/user.repository.js';
import { AuthService } from '../services/auth.service.js';
import { ApiError } from '../shared/api-error.js';
import { QUEUE_DASHBOARD_PATH } from '../http/request-logging.js';

/** Looks up story titles by id (missing ids are left out). */
type TitleLookup = (storyIds: string[]) => Promise<Map<string, string>>;

/**
 * A read-only Bull Board view of one queue whose job names also carry the story's title
 * (`image-generation · The Lantern Keeper`), so that an operator sees which story a job is for.
 * Titles are user text: Bull Board shows them as text (React escapes them), never as markup.
 */
class TitledQueueAdapter extends BullMQAdapter {
  private readonly titles = new Map<string, string>();

  constructor(
    queue: Queue,
    private readonly lookup: TitleLookup,
  ) {
    super(queue, { readOnlyMode: true });
    this.setFormatter('name', (job: { name?: string; data?: { storyId?: string } }) => {
      const title = job.data?.storyId ? this.titles.get(job.data.storyId) : undefined;
      return title ? `${job.name ?? ''} · ${title}` : (job.name ?? '');
    });
  }

  override async getJobs(...args: Parameters<BullMQAdapter['getJobs']>): Promise<Job[]> {
    const jobs = await super.getJobs(...args);
    await this.learnTitles(jobs);
    return jobs;
  }

  override async getJob(id: string): Promise<Job | undefined> {
    const job = await super.getJob(id);
    if (job) await this.learnTitles([job]);
    return job;
  }

  private async learnTitles(jobs: Job[]): Promise<void> {
    const ids = [...new Set(jobs.map((job) => (job.data as { storyId?: unknown })?.storyId).filter((id): id is string => typeof id === 'string'))];
    const missing = ids.filter((id) => !this.titles.has(id));
    if (!missing.length) return;
    if (this.titles.size > 10_000) this.titles.clear();
    for (const [id, title] of await this.lookup(missing).catch(() => new Map<string, string>())) this.titles.set(id, title);
  }
}

/**
 * Serves Bull Board at /admin/queues: every queue of the job catalog, read only (retry and cancel
 * go through the API, which keeps PostgreSQL and the queues in step). Admins only: no credential
 * answers 401 `unauthorized`, a user who is not an admin 403 `forbidden`. The credential is the
 * API's (a bearer token, an API key, or the web page's cookie, which GET requests, and so the
 * dashboard in a browser, may use). The web page's Content-Security-Policy is not applied here:
 * the dashboard brings its own scripts and styles.
 */
export function serveQueueDashboard(app: NestExpressApplication): void {
  const database = app.get<DatabaseConnection>(DATABASE);
  const lookup: TitleLookup = async (ids) => {
    const rows = await database.db.select({ id: stories.id, title: stories.title }).from(stories).where(inArray(stories.id, ids));
    return new Map(rows.filter((row) => row.title).map((row) => [row.id, row.title!]));
  };
  const board = new ExpressAdapter();
  board.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({
    queues: app.get(QueueRepository).allQueues().map((queue) => new TitledQueueAdapter(queue, lookup)),
    serverAdapter: board,
    options: { uiConfig: { boardTitle: 'Storyforge queues' } },
  });
  const auth = app.get(AuthService);
  const users = app.get(UserRepository);
  const adminsOnly = (request: Request, response: Response, next: NextFunction) => {
    const check = async () => {
      const caller = await auth.authenticate(credentialFrom(request.headers) ?? cookieCredential(request.method, request.headers.cookie));
      const user = await users.get(caller.id);
      if (!user?.isAdmin) throw new ApiError(403, 'forbidden', 'The queue dashboard is for admins (storyforge user create --admin)');
    };
    check().then(
      () => next(),
      (error: unknown) => {
        const status = error instanceof ApiError ? error.getStatus() : 500;
        const body = error instanceof ApiError ? error.getResponse() : { statusCode: 500, code: 'internal-error', message: 'Internal server error' };
        response.status(status).json(body);
      },
    );
  };
  app.use(QUEUE_DASHBOARD_PATH, adminsOnly, board.getRouter());
}

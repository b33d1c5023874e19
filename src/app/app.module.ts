import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { DATABASE, type DatabaseConnection, openDatabase } from '../db/database.js';
import { installationQueuePrefix } from '../db/installation.js';
import { httpControllers, httpImports, httpProviders } from '../app/http.parts.js';
import { loggingModule, rootLoggerFor } from '../logging/pino-logger.js';
import { JobObserverService } from '../services/job-observer.service.js';
import { ReadinessService } from '../services/readiness.service.js';
import { RUN_WORKERS } from '../pipeline/pipeline.worker.js';
import { BATCH_TRACKER } from '../pipeline/batch-tracker.js';
import { PIPELINE_PROVIDERS } from '../pipeline/pipeline.providers.js';
import { CARD_RENDERER, PROVIDER_LIMIT_STORE } from '../providers/ports.js';
import { ProviderRegistry } from '../providers/registry.js';
import { ProviderLimitsRepository } from '../repositories/provider-limits.repository.js';
import { ApiKeyRepository } from '../repositories/api-key.repository.js';
import { BatchRepository } from '../repositories/batch.repository.js';
import { CancelSignalRepository } from '../repositories/cancel-signal.repository.js';
import { EventsRepository } from '../repositories/events.repository.js';
import { IdempotencyRepository } from '../repositories/idempotency.repository.js';
import { LiveEventsRepository } from '../repositories/live-events.repository.js';
import { MediaRepository } from '../repositories/media.repository.js';
import { QueueRepository } from '../repositories/queue.repository.js';
import { RefreshTokenRepository } from '../repositories/refresh-token.repository.js';
import { StepRunRepository } from '../repositories/step-run.repository.js';
import { storageProvider } from '../repositories/storage.provider.js';
import { StoryRepository } from '../repositories/story.repository.js';
import { UploadRepository } from '../repositories/upload.repository.js';
import { MusicRepository } from '../repositories/music.repository.js';
import { MusicService } from '../services/music.service.js';
import { PresentationService } from '../pipeline/presentation.service.js';
import { UserRepository } from '../repositories/user.repository.js';
import { WorkerRepository } from '../repositories/worker.repository.js';
import { BatchService } from '../services/batch.service.js';
import { ExportService } from '../services/export.service.js';
import { IdempotencyService } from '../services/idempotency.service.js';
import { LiveEventsService } from '../services/live-events.service.js';
import { OrchestratorService } from '../pipeline/orchestrator.service.js';
import { PackageService } from '../services/package.service.js';
import { ProviderChoiceService } from '../services/provider-choice.service.js';
import { ReconcilerService } from '../services/reconciler.service.js';
import { RecoveryService } from '../services/recovery.service.js';
import { RollbackService } from '../pipeline/rollback.service.js';
import { StoryReplayService } from '../services/story-replay.service.js';
import { TimelineService } from '../pipeline/timeline.service.js';
import { IntakeService } from '../services/intake.service.js';

/** Closes the database last, after workers and queues have stopped (onModuleDestroy). */
@Injectable()
class DatabaseLifecycle implements OnApplicationShutdown {
  constructor(@Inject(DATABASE) private readonly database: DatabaseConnection) {}

  async onApplicationShutdown(): Promise<void> {
    await this.database.close();
  }
}

export interface AppModuleOptions {
  config: AppConfig;
  /** Run queue workers in this process. */
  workers: boolean;
  /** Serve the HTTP API. */
  http: boolean;
  /** The process's root logger (see rootLoggerFor); one from the configuration when absent. */
  logger?: Logger;
}

/** The application: one module; the roles (`serve`, `worker`, `run`) choose what starts. */
@Module({})
export class AppModule {
  static forRoot(options: AppModuleOptions): DynamicModule {
    const root = options.logger ?? rootLoggerFor(options.config);
    const startup = (message: string) => root.info({ context: 'Startup' }, message);
    return {
      module: AppModule,
      imports: [
        loggingModule(root),
        // Readiness checks; a failure is logged by ReadinessService, with its reason.
        TerminusModule.forRoot({ logger: false }),
        ...(options.http ? httpImports(options.config) : []),
      ],
      controllers: options.http ? httpControllers : [],
      providers: [
        {
          // Redis keys go under this database's own prefix: installations never share work.
          provide: APP_CONFIG,
          inject: [DATABASE],
          useFactory: (database: DatabaseConnection): AppConfig => ({
            ...options.config,
            queuePrefix: installationQueuePrefix(options.config.queuePrefix, database.installationId),
          }),
        },
        { provide: RUN_WORKERS, useValue: options.workers },
        { provide: DATABASE, useFactory: () => openDatabase({ ...options.config, progress: startup }) },
        DatabaseLifecycle,
        BatchRepository,
        CancelSignalRepository,
        EventsRepository,
        MediaRepository,
        QueueRepository,
        StepRunRepository,
        storageProvider,
        StoryRepository,
        UploadRepository,
        MusicRepository,
        UserRepository,
        ApiKeyRepository,
        RefreshTokenRepository,
        LiveEventsRepository,
        IdempotencyRepository,
        ProviderLimitsRepository,
        // What providers need from outside, bound to the repositories that provide it.
        { provide: PROVIDER_LIMIT_STORE, useExisting: ProviderLimitsRepository },
        { provide: CARD_RENDERER, useExisting: MediaRepository },
        ProviderRegistry,
        ProviderChoiceService,
        ...PIPELINE_PROVIDERS,
        TimelineService,
        PackageService,
        BatchService,
        { provide: BATCH_TRACKER, useExisting: BatchService },
        OrchestratorService,
        RollbackService,
        RecoveryService,
        ReconcilerService,
        IntakeService,
        MusicService,
        PresentationService,
        ExportService,
        IdempotencyService,
        StoryReplayService,
        WorkerRepository,
        // Work context on log lines, and the job and queue metrics.
        JobObserverService,
        ReadinessService,
        // Room events for Socket.IO clients, published through Redis wherever the pipeline runs.
        LiveEventsService,
        ...(options.http ? httpProviders : []),
      ],
    };
  }
}

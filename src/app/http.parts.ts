import { createSecretKey } from 'node:crypto';
import type { DynamicModule, Provider, Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import { MulterModule } from '@nestjs/platform-express';
import { AuthGuard } from '../auth/auth.guard.js';
import { resolveJwtSecret } from '../auth/jwt-secret.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { ApiKeyController } from '../controllers/api-key.controller.js';
import { AuthController } from '../controllers/auth.controller.js';
import { FileUploadController } from '../controllers/file-upload.controller.js';
import { HealthController } from '../controllers/health.controller.js';
import { MetricsController } from '../controllers/metrics.controller.js';
import { ProviderController } from '../controllers/provider.controller.js';
import { RecoveryController } from '../controllers/recovery.controller.js';
import { StoryController } from '../controllers/story.controller.js';
import { WorkerController } from '../controllers/worker.controller.js';
import { EventsGateway } from '../gateways/events.gateway.js';
import { RateLimitRepository } from '../repositories/rate-limit.repository.js';
import { AccountService } from '../services/account.service.js';
import { ApiKeyService } from '../services/api-key.service.js';
import { AuthService } from '../services/auth.service.js';
import { BatchHistoryService } from '../services/batch-history.service.js';
import { FileUploadService } from '../services/file-upload.service.js';
import { RoomService } from '../services/room.service.js';
import { BatchApiService } from '../services/batch-api.service.js';
import { StoryFileService } from '../services/story-file.service.js';
import { VoicePreviewService } from '../services/voice-preview.service.js';
import { StoryService } from '../services/story.service.js';
import { WorkerFleetService } from '../services/worker-fleet.service.js';
import { RateLimitGuard } from '../http/rate-limit.js';
import { multerOptions } from '../http/upload.options.js';

/** Every HTTP controller (the OpenAPI document lists all of their routes). */
export const httpControllers: Type[] = [HealthController, MetricsController, AuthController, ApiKeyController, FileUploadController, StoryController, RecoveryController, ProviderController, WorkerController];

/** Modules the HTTP role needs: multer with the upload limits of the configuration. */
export function httpImports(config: AppConfig): DynamicModule[] {
  return [MulterModule.register(multerOptions(config))];
}

/** Providers of the HTTP role: the global auth guard, token signing, the API's services, the Socket.IO gateway. */
export const httpProviders: Provider[] = [
  { provide: APP_GUARD, useClass: AuthGuard },
  {
    provide: JwtService,
    inject: [APP_CONFIG],
    useFactory: async (config: AppConfig) => {
      // A KeyObject: given a string, jsonwebtoken first tries (and fails) to parse it as a public
      // key on every verify, which cost more than the rest of an authenticated request.
      const secret = createSecretKey(Buffer.from(await resolveJwtSecret(config), 'utf8'));
      return new JwtService({ secret, signOptions: { algorithm: 'HS256', issuer: 'storyforge' }, verifyOptions: { algorithms: ['HS256'], issuer: 'storyforge' } });
    },
  },
  RateLimitRepository,
  RateLimitGuard,
  AccountService,
  AuthService,
  ApiKeyService,
  FileUploadService,
  StoryService,
  BatchApiService,
  BatchHistoryService,
  StoryFileService,
  VoicePreviewService,
  WorkerFleetService,
  RoomService,
  EventsGateway,
];

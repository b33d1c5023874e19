import { Controller, HttpCode, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthUser } from '../shared/auth-user.js';
import { Auth, Authenticated } from '../auth/decorators.js';
import { BatchCancelDto, BatchRetryDto, StoryRecoveryDto } from '../dtos/recovery.dto.js';
import { StoryDetailDto } from '../dtos/story-response.dto.js';
import { ApiErrors } from '../http/api-errors.decorator.js';
import { ApiUuidParam, UuidParam } from '../http/params.js';
import { RecoveryService } from '../services/recovery.service.js';
import { BatchApiService } from '../services/batch-api.service.js';
import { StoryService } from '../services/story.service.js';

const BATCH_ID = ApiUuidParam('batchId', 'Batch id');
const STORY_ID = ApiUuidParam('id', 'Story id');

/**
 * When something went wrong: retry, cancel, regenerate one chunk (RecoveryService). Each
 * request is safe to repeat: a second one finds nothing to do and changes nothing.
 */
@ApiTags('recovery')
@Authenticated()
@Controller()
export class RecoveryController {
  constructor(
    private readonly recovery: RecoveryService,
    private readonly batches: BatchApiService,
    private readonly stories: StoryService,
  ) {}

  @Post('stories/batch/:batchId/retry')
  @BATCH_ID
  @HttpCode(202)
  @ApiOperation({ summary: 'Re-run the failed and cancelled stories of a batch from the step where each stopped; finished work is kept' })
  @ApiAcceptedResponse({ type: BatchRetryDto })
  @ApiErrors(400, 404)
  async retryBatch(@Auth() auth: AuthUser, @UuidParam('batchId') batchId: string): Promise<BatchRetryDto> {
    const { retried } = await this.recovery.retryBatch(batchId, auth.id);
    return { retried, batch: await this.batches.status(auth, batchId) };
  }

  @Post('stories/batch/:batchId/cancel')
  @BATCH_ID
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel a batch: queued work is removed, running provider calls are aborted, the batch ends `cancelled`' })
  @ApiOkResponse({ type: BatchCancelDto })
  @ApiErrors(400, 404, 409)
  async cancelBatch(@Auth() auth: AuthUser, @UuidParam('batchId') batchId: string): Promise<BatchCancelDto> {
    const { cancelled } = await this.recovery.cancelBatch(batchId, auth.id);
    return { cancelled, batch: await this.batches.status(auth, batchId) };
  }

  @Post('stories/:id/retry')
  @STORY_ID
  @HttpCode(202)
  @ApiOperation({ summary: 'Re-run a failed or cancelled story from the step where it stopped; finished work is kept' })
  @ApiAcceptedResponse({ type: StoryRecoveryDto })
  @ApiErrors(400, 404)
  async retryStory(@Auth() auth: AuthUser, @UuidParam('id') id: string): Promise<StoryRecoveryDto> {
    const { retried } = await this.recovery.retryStory(id, auth.id);
    return { changed: retried, story: await this.stories.get(auth, id) };
  }

  @Post('stories/:id/cancel')
  @STORY_ID
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel one story: its queued work is removed and running provider calls are aborted' })
  @ApiOkResponse({ type: StoryRecoveryDto })
  @ApiErrors(400, 404)
  async cancelStory(@Auth() auth: AuthUser, @UuidParam('id') id: string): Promise<StoryRecoveryDto> {
    const { cancelled } = await this.recovery.cancelStory(id, auth.id);
    return { changed: cancelled, story: await this.stories.get(auth, id) };
  }

  @Post('images/chunks/:id/regenerate')
  @ApiUuidParam('id', 'Image chunk id (from GET /stories/:id)')
  @HttpCode(202)
  @ApiOperation({ summary: 'Make one image again (same file name), then the video if the story has one' })
  @ApiAcceptedResponse({ type: StoryDetailDto })
  @ApiErrors(400, 404, 409)
  async regenerateImage(@Auth() auth: AuthUser, @UuidParam('id') id: string): Promise<StoryDetailDto> {
    const story = await this.recovery.regenerateChunk('images', id, auth.id);
    return this.stories.get(auth, story.id);
  }

  @Post('audio/chunks/:id/regenerate')
  @ApiUuidParam('id', 'Audio chunk id (from GET /stories/:id)')
  @HttpCode(202)
  @ApiOperation({ summary: 'Make one narration clip again (same file name), then the merged narration, subtitles and video' })
  @ApiAcceptedResponse({ type: StoryDetailDto })
  @ApiErrors(400, 404, 409)
  async regenerateAudio(@Auth() auth: AuthUser, @UuidParam('id') id: string): Promise<StoryDetailDto> {
    const story = await this.recovery.regenerateChunk('audio', id, auth.id);
    return this.stories.get(auth, story.id);
  }
}

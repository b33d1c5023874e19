import { Body, Controller, Delete, Get, HttpCode, Post, Query, Res, UseInterceptors } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiCreatedResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPartialContentResponse,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import type { AuthUser } from '../shared/auth-user.js';
import { Auth, Authenticated } from '../auth/decorators.js';
import { BatchPageDto } from '../dtos/batch-list.dto.js';
import { BatchCreatedDto, BatchStatusDto } from '../dtos/batch.dto.js';
import { PageQueryDto } from '../dtos/pagination.dto.js';
import { ErrorResponseDto } from '../dtos/error.dto.js';
import { StoryDetailDto, StoryDto, StoryPageDto } from '../dtos/story-response.dto.js';
import { BatchCreateStoryDto, CreateStoryDto, GenerateStoryDto, StoryListQueryDto } from '../dtos/story.dto.js';
import { ApiErrors } from '../http/api-errors.decorator.js';
import { ApiIndexParam, ApiUuidParam, IdempotencyKeyHeader, IndexParam, UuidParam } from '../http/params.js';
import { IdempotentReplayInterceptor } from '../http/idempotent-replay.interceptor.js';
import { sendFile, sendStreamedZip, sendZip } from '../http/send-file.js';
import { BatchHistoryService } from '../services/batch-history.service.js';
import type { IdempotentResult } from '../services/idempotency.service.js';
import { BatchApiService } from '../services/batch-api.service.js';
import { StoryFileService } from '../services/story-file.service.js';
import { StoryService } from '../services/story.service.js';

const STORY_ID = ApiUuidParam('id', 'Story id');
const RANGE = ApiHeader({ name: 'Range', required: false, description: 'Byte range, e.g. `bytes=0-65535`; answered with 206 Partial Content' });
/** OpenAPI: a 200 answer that is a file of one of these media types. */
const binary = (description: string, ...types: string[]) =>
  ApiOkResponse({ description, content: Object.fromEntries(types.map((type) => [type, { schema: { type: 'string', format: 'binary' } }])) });
/** OpenAPI: the optional `Idempotency-Key` request header (IdempotencyService). */
const IDEMPOTENCY_KEY = ApiHeader({
  name: 'Idempotency-Key',
  required: false,
  description:
    'Makes a retry safe: 1–255 printable ASCII characters (a UUID, say), new for each new request. The same key with the same body ' +
    'within 24 h answers what the first request made (with `Idempotent-Replayed: true`) instead of making it again; with another body it answers 409',
  schema: { type: 'string', minLength: 1, maxLength: 255 },
});
/** OpenAPI: the 409 answers of a route that takes `Idempotency-Key`. */
const IDEMPOTENCY_CONFLICT = ApiResponse({
  status: 409,
  description:
    'Idempotency-Key: used before with another body (`idempotency-key-reused`), its first request still running (`idempotency-request-in-progress`), ' +
    'or what it made was deleted since (`idempotency-resource-deleted`)',
  type: ErrorResponseDto,
});
/** OpenAPI: the response header of a replay. */
const REPLAYED = { 'Idempotent-Replayed': { description: '`true` when the answer replays an earlier request with the same Idempotency-Key', schema: { type: 'string', enum: ['true'] } } };

/** The seed's story and batch endpoints, manual steps and downloads (StoryService, BatchApiService, StoryFileService). */
@ApiTags('stories')
@Authenticated()
@Controller('stories')
export class StoryController {
  constructor(
    private readonly service: StoryService,
    private readonly batches: BatchApiService,
    private readonly files: StoryFileService,
    private readonly history: BatchHistoryService,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Make one story from text or from an uploaded file (it runs on POST /stories/:id/generate)' })
  @IDEMPOTENCY_KEY
  @ApiCreatedResponse({ type: StoryDetailDto, headers: REPLAYED })
  @ApiErrors(400, 404, 422)
  @IDEMPOTENCY_CONFLICT
  @UseInterceptors(IdempotentReplayInterceptor)
  create(@Auth() auth: AuthUser, @Body() dto: CreateStoryDto, @IdempotencyKeyHeader() key: string | undefined): Promise<IdempotentResult<StoryDetailDto>> {
    return this.service.createOnce(auth, dto, key);
  }

  @Post('batch-create')
  @HttpCode(202)
  @ApiOperation({ summary: 'Make one story per uploaded file and start them (seed BatchCreateStoryDto); follow it on the socket room `batch-<id>`' })
  @IDEMPOTENCY_KEY
  @ApiAcceptedResponse({ type: BatchCreatedDto, headers: REPLAYED })
  @ApiErrors(400, 404, 422)
  @IDEMPOTENCY_CONFLICT
  @UseInterceptors(IdempotentReplayInterceptor)
  batchCreate(@Auth() auth: AuthUser, @Body() dto: BatchCreateStoryDto, @IdempotencyKeyHeader() key: string | undefined): Promise<IdempotentResult<BatchCreatedDto>> {
    return this.batches.createOnce(auth, dto, key);
  }

  @Get('batch/:batchId/status')
  @ApiUuidParam('batchId', 'Batch id')
  @ApiOperation({ summary: 'A batch as it is now: results per story, step states, chunk counts and percentage' })
  @ApiOkResponse({ type: BatchStatusDto })
  @ApiErrors(400, 404)
  batchStatus(@Auth() auth: AuthUser, @UuidParam('batchId') batchId: string): Promise<BatchStatusDto> {
    return this.batches.status(auth, batchId);
  }

  @Get('batches')
  @ApiOperation({ summary: 'Your batches, newest first (history)' })
  @ApiOkResponse({ type: BatchPageDto })
  @ApiErrors(400)
  listBatches(@Auth() auth: AuthUser, @Query() query: PageQueryDto): Promise<BatchPageDto> {
    return this.history.list(auth, query);
  }

  @Get('batch/:batchId/package')
  @ApiUuidParam('batchId', 'Batch id')
  @ApiOperation({ summary: 'Download every story of a batch as one ZIP, one folder per story (story.md, story.json, images, clips, narration, subtitles, video)' })
  @binary('The ZIP, streamed', 'application/zip')
  @ApiErrors(400, 404)
  batchPackage(@Auth() auth: AuthUser, @UuidParam('batchId') batchId: string, @Res() res: Response): Promise<void> {
    return sendStreamedZip(res, () => this.history.package(auth, batchId));
  }

  @Get()
  @ApiOperation({ summary: 'Your stories, newest first, optionally of one batch or status' })
  @ApiOkResponse({ type: StoryPageDto })
  @ApiErrors(400)
  list(@Auth() auth: AuthUser, @Query() query: StoryListQueryDto): Promise<StoryPageDto> {
    return this.service.list(auth, query);
  }

  @Get(':id')
  @STORY_ID
  @ApiOperation({ summary: 'One story with its text, chunks and file addresses' })
  @ApiOkResponse({ type: StoryDetailDto })
  @ApiErrors(400, 404)
  get(@Auth() auth: AuthUser, @UuidParam('id') id: string): Promise<StoryDetailDto> {
    return this.service.get(auth, id);
  }

  @Delete(':id')
  @STORY_ID
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a story and every file it made' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(400, 404)
  delete(@Auth() auth: AuthUser, @UuidParam('id') id: string): Promise<void> {
    return this.service.delete(auth, id);
  }

  @Post(':id/generate')
  @STORY_ID
  @HttpCode(202)
  @ApiOperation({ summary: 'Write the story (seed GenerateStoryDto), then run what auto mode asks for; follow it on the socket room `story-<id>`' })
  @ApiAcceptedResponse({ type: StoryDto })
  @ApiErrors(400, 404, 409, 422)
  generate(@Auth() auth: AuthUser, @UuidParam('id') id: string, @Body() dto: GenerateStoryDto): Promise<StoryDto> {
    return this.service.generate(auth, id, dto);
  }

  @Post(':id/images')
  @STORY_ID
  @HttpCode(202)
  @ApiOperation({ summary: 'Make the images (a step that was not requested, or failed: a failed story resumes)' })
  @ApiAcceptedResponse({ type: StoryDto })
  @ApiErrors(400, 404, 409)
  images(@Auth() auth: AuthUser, @UuidParam('id') id: string): Promise<StoryDto> {
    return this.service.runStep(auth, id, 'images');
  }

  @Post(':id/audio')
  @STORY_ID
  @HttpCode(202)
  @ApiOperation({ summary: 'Make the narration clips (a step that was not requested, or failed: a failed story resumes)' })
  @ApiAcceptedResponse({ type: StoryDto })
  @ApiErrors(400, 404, 409)
  audio(@Auth() auth: AuthUser, @UuidParam('id') id: string): Promise<StoryDto> {
    return this.service.runStep(auth, id, 'audio');
  }

  @Post(':id/merge')
  @STORY_ID
  @HttpCode(202)
  @ApiOperation({ summary: 'Join the clips into narration.mp3 (needs every clip)' })
  @ApiAcceptedResponse({ type: StoryDto })
  @ApiErrors(400, 404, 409)
  merge(@Auth() auth: AuthUser, @UuidParam('id') id: string): Promise<StoryDto> {
    return this.service.runStep(auth, id, 'merge');
  }

  @Get(':id/narration')
  @STORY_ID
  @RANGE
  @ApiOperation({ summary: 'Download the merged narration (MP3); range requests allowed' })
  @binary('narration.mp3', 'audio/mpeg')
  @ApiPartialContentResponse({ description: 'The requested byte range' })
  @ApiErrors(400, 404, 416)
  narration(@Auth() auth: AuthUser, @UuidParam('id') id: string, @Res() res: Response): Promise<void> {
    return sendFile(res, () => this.files.narration(auth, id));
  }

  @Get(':id/subtitles.srt')
  @STORY_ID
  @ApiOperation({ summary: 'Download the subtitles as SubRip (written with the narration)' })
  @binary('subtitles.srt', 'application/x-subrip')
  @ApiErrors(400, 404, 416)
  subtitlesSrt(@Auth() auth: AuthUser, @UuidParam('id') id: string, @Res() res: Response): Promise<void> {
    return sendFile(res, () => this.files.subtitles(auth, id, 'srt'));
  }

  @Get(':id/subtitles.vtt')
  @STORY_ID
  @ApiOperation({ summary: 'Download the subtitles as WebVTT (written with the narration)' })
  @binary('subtitles.vtt', 'text/vtt')
  @ApiErrors(400, 404, 416)
  subtitlesVtt(@Auth() auth: AuthUser, @UuidParam('id') id: string, @Res() res: Response): Promise<void> {
    return sendFile(res, () => this.files.subtitles(auth, id, 'vtt'));
  }

  @Get(':id/video')
  @STORY_ID
  @RANGE
  @ApiOperation({ summary: 'Download video.mp4 (autoMode.renderVideo); range requests allowed' })
  @binary('video.mp4', 'video/mp4')
  @ApiPartialContentResponse({ description: 'The requested byte range' })
  @ApiErrors(400, 404, 416)
  video(@Auth() auth: AuthUser, @UuidParam('id') id: string, @Res() res: Response): Promise<void> {
    return sendFile(res, () => this.files.video(auth, id));
  }

  @Get(':id/soundtrack')
  @STORY_ID
  @RANGE
  @ApiOperation({ summary: 'Download soundtrack.mp3, the video\'s sound: narration after the title card, music ducked under it (autoMode.music, titleCard); range requests allowed' })
  @binary('soundtrack.mp3', 'audio/mpeg')
  @ApiPartialContentResponse({ description: 'The requested byte range' })
  @ApiErrors(400, 404, 416)
  soundtrack(@Auth() auth: AuthUser, @UuidParam('id') id: string, @Res() res: Response): Promise<void> {
    return sendFile(res, () => this.files.soundtrack(auth, id));
  }

  @Get(':id/thumbnail.jpg')
  @STORY_ID
  @ApiOperation({ summary: 'Download thumbnail.jpg: the first image with the story\'s title, 1280×720 (16:9 video) or 1080×1920 (9:16)' })
  @binary('thumbnail.jpg', 'image/jpeg')
  @ApiErrors(400, 404)
  thumbnail(@Auth() auth: AuthUser, @UuidParam('id') id: string, @Res() res: Response): Promise<void> {
    return sendFile(res, () => this.files.thumbnail(auth, id));
  }

  @Get(':id/audio/:index')
  @STORY_ID
  @RANGE
  @ApiIndexParam('index', 'Audio chunk index, from 0')
  @ApiOperation({ summary: 'Download one narration clip by chunk index (from 0); range requests allowed' })
  @binary('The clip (the speech synthesizer\'s format: WAV for espeak-ng)', 'audio/wav', 'audio/mpeg')
  @ApiPartialContentResponse({ description: 'The requested byte range' })
  @ApiErrors(400, 404, 416)
  clip(@Auth() auth: AuthUser, @UuidParam('id') id: string, @IndexParam('index') index: number, @Res() res: Response): Promise<void> {
    return sendFile(res, () => this.files.clip(auth, id, index));
  }

  @Get(':id/package')
  @STORY_ID
  @ApiOperation({ summary: 'Download the whole story as one ZIP: story.md, story.json, images, clips, narration, subtitles and video' })
  @binary('The ZIP, streamed', 'application/zip')
  @ApiErrors(400, 404)
  package(@Auth() auth: AuthUser, @UuidParam('id') id: string, @Res() res: Response): Promise<void> {
    return sendStreamedZip(res, () => this.files.package(auth, id));
  }

  @Get(':id/images.zip')
  @STORY_ID
  @ApiOperation({ summary: 'Download every finished image as one ZIP (images/001.png …)' })
  @binary('The ZIP', 'application/zip')
  @ApiErrors(400, 404)
  imagesZip(@Auth() auth: AuthUser, @UuidParam('id') id: string, @Res() res: Response): Promise<void> {
    return sendZip(res, () => this.files.imagesArchive(auth, id));
  }

  @Get(':id/images/:index')
  @STORY_ID
  @ApiIndexParam('index', 'Image chunk index, from 0')
  @ApiOperation({ summary: 'Download one image by chunk index (from 0)' })
  @binary('The image', 'image/png', 'image/jpeg', 'image/webp')
  @ApiErrors(400, 404)
  image(@Auth() auth: AuthUser, @UuidParam('id') id: string, @IndexParam('index') index: number, @Res() res: Response): Promise<void> {
    return sendFile(res, () => this.files.image(auth, id, index));
  }
}

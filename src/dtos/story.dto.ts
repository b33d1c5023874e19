import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { storyStatus } from '../db/schema.js';
import { VIDEO_ASPECTS, type VideoAspect } from '../media/video.js';
import { IMAGE_GENERATORS, SPEECH_SYNTHESIZERS, STORY_WRITERS } from '../shared/provider-names.js';
import { CaptionOptionsDto } from './captions.dto.js';
import { MusicOptionsDto } from './music.dto.js';
import { MAX_BATCH_FILES } from '../shared/batch-limits.js';
import { LANGUAGE_CODES, LANGUAGE_RULE } from '../shared/language-codes.js';
import { PageQueryDto } from './pagination.dto.js';

/** An upload URL as returned by the upload endpoints (absolute or relative); group 1 is the id. */
export const UPLOAD_URL_PATTERN = /^(?:https?:\/\/[^/\s]+)?\/file-upload\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:\/content)?\/?$/i;

/** Seed `style`: how the story should be told. */
export class StoryStyleDto {
  @ApiPropertyOptional({ description: 'Genre', example: 'fairy tale', maxLength: 100 })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  genre?: string;

  @ApiPropertyOptional({ description: 'Tone', example: 'warm', maxLength: 100 })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  tone?: string;

  @ApiPropertyOptional({ description: '`short`, `medium`, `long`, or free text such as "about 800 words"', example: 'short', maxLength: 100 })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  length?: string;

  @ApiPropertyOptional({ description: 'Who the story is for', example: 'children aged 6 to 9', maxLength: 100 })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  targetAudience?: string;
}

/** Seed `AutoModeConfigDto`: which steps follow the story step by themselves, and how. */
export class AutoModeConfigDto {
  @ApiPropertyOptional({ description: 'Run the following steps by themselves after the story step', example: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ description: 'Make one image per image chunk', example: true, default: true })
  @IsOptional()
  @IsBoolean()
  generateImages?: boolean;

  @ApiPropertyOptional({ description: 'Make one narration clip per audio chunk', example: true, default: true })
  @IsOptional()
  @IsBoolean()
  generateAudio?: boolean;

  @ApiPropertyOptional({ description: 'Join the clips into one loudness-normalised narration.mp3 (needs generateAudio)', example: true, default: true })
  @IsOptional()
  @IsBoolean()
  mergeAudio?: boolean;

  @ApiPropertyOptional({ description: "Voice name for the speech synthesizer (espeak-ng: a voice such as `vi` or `en-us`; default: the story's language)", example: 'vi', maxLength: 100 })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  audioVoice?: string;

  @ApiPropertyOptional({ description: 'Words per image chunk, cut at sentence boundaries (default WORD_PER_CHUNK_IMAGE)', example: 120, minimum: 10, maximum: 2000 })
  @IsOptional()
  @IsInt()
  @Min(10)
  @Max(2000)
  wordPerChunkImage?: number;

  @ApiPropertyOptional({ description: 'Words per audio chunk, cut at sentence boundaries (default WORD_PER_CHUNK_AUDIO)', example: 60, minimum: 5, maximum: 2000 })
  @IsOptional()
  @IsInt()
  @Min(5)
  @Max(2000)
  wordPerChunkAudio?: number;

  @ApiPropertyOptional({ description: 'Instructions put before every image prompt', example: 'watercolour, soft light', maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  customPromptImage?: string;

  @ApiPropertyOptional({ description: 'Instructions for the narration (kept with the story for speech engines that take them)', example: 'calm, slow storyteller voice', maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  customPromptAudio?: string;

  @ApiPropertyOptional({ description: 'Also render video.mp4 from the images and the merged narration, subtitles as a soft track (needs generateImages, generateAudio and mergeAudio: 400 otherwise)', example: true, default: false })
  @IsOptional()
  @IsBoolean()
  renderVideo?: boolean;

  @ApiPropertyOptional({ description: 'Frame shape of the video: `16:9` (1920×1080) or `9:16` (1080×1920), times VIDEO_SCALE', enum: VIDEO_ASPECTS, example: '9:16', default: '16:9' })
  @IsOptional()
  @IsIn(VIDEO_ASPECTS)
  videoPreset?: VideoAspect;

  @ApiPropertyOptional({ description: 'Draw the subtitles into the video frames too (as `storyforge run --burn-subtitles`)', example: false, default: false })
  @IsOptional()
  @IsBoolean()
  burnSubtitles?: boolean;

  @ApiPropertyOptional({ description: 'How burned-in captions look (preset, size, colours, outline, position)', type: CaptionOptionsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => CaptionOptionsDto)
  captions?: CaptionOptionsDto;

  @ApiPropertyOptional({ description: 'Background music under the narration in the video, ducked while the voice speaks (needs renderVideo); the video\'s sound is also given as soundtrack.mp3', type: MusicOptionsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => MusicOptionsDto)
  music?: MusicOptionsDto;

  @ApiPropertyOptional({ description: 'Open the video with a title card: the story\'s title over its first image for about 1.8 s (needs renderVideo)', example: true, default: false })
  @IsOptional()
  @IsBoolean()
  titleCard?: boolean;

  @ApiPropertyOptional({ description: 'Speak the title on the title card with the story\'s voice; the card lasts as long as it takes (implies titleCard)', example: false, default: false })
  @IsOptional()
  @IsBoolean()
  speakTitle?: boolean;
}

/**
 * Which provider makes each part, `provider[:model]` (speech: `provider[:model][:voice]`), e.g.
 * `gemini:gemini-2.5-flash`, `comfyui`, `edge:vi-VN-HoaiMyNeural`. Absent parts use the server's
 * defaults (STORY_WRITER, IMAGE_GENERATOR, SPEECH_SYNTHESIZER). A choice that cannot work answers
 * 422 `invalid-provider-choice` before anything is stored (GET /providers, GET /voices list what can).
 */
export class ProviderChoiceDto {
  @ApiPropertyOptional({ description: `Story writer: ${STORY_WRITERS.join(', ')}, optionally :model`, example: 'gemini:gemini-2.5-flash', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  writer?: string;

  @ApiPropertyOptional({ description: `Image generator: ${IMAGE_GENERATORS.join(', ')}, optionally :model`, example: 'comfyui', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  images?: string;

  @ApiPropertyOptional({ description: `Speech synthesizer: ${SPEECH_SYNTHESIZERS.join(', ')}, optionally :model and/or :voice`, example: 'edge:vi-VN-HoaiMyNeural', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  speech?: string;
}

/** What every way of making stories shares. */
class StorySettingsDto {
  @ApiPropertyOptional({ description: 'How the story should be told', type: StoryStyleDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => StoryStyleDto)
  style?: StoryStyleDto;

  @ApiPropertyOptional({ description: 'Instructions for the story writer (a language-model writer follows them; `source` keeps the text as written)', example: 'Retell it for a bedtime read-aloud', maxLength: 4000 })
  @IsOptional()
  @IsString()
  @MaxLength(4000)
  customPrompt?: string;

  @ApiPropertyOptional({ description: 'ISO 639-1 language of the story (one of the listed codes); detected from the text when absent', example: 'vi', enum: LANGUAGE_CODES })
  @IsOptional()
  @IsIn(LANGUAGE_CODES, { message: `language ${LANGUAGE_RULE}` })
  language?: string;

  @ApiPropertyOptional({ description: 'Providers for this story or batch (GET /providers lists them)', type: ProviderChoiceDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => ProviderChoiceDto)
  providers?: ProviderChoiceDto;
}

/** Seed `BatchCreateStoryDto`: one story per uploaded file. */
export class BatchCreateStoryDto extends StorySettingsDto {
  @ApiPropertyOptional({ description: `Ids of uploaded files (POST /file-upload/…), at most ${MAX_BATCH_FILES} with fileUrls; one story each, in this order`, example: ['7c1e2b4a-9d3f-4e5a-8b6c-1d2e3f4a5b6c'], type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_BATCH_FILES)
  @IsUUID('all', { each: true })
  fileIds?: string[];

  @ApiPropertyOptional({ description: 'URLs of uploaded files as the upload endpoints return them (after fileIds); only this server\'s upload URLs are accepted', example: ['/file-upload/7c1e2b4a-9d3f-4e5a-8b6c-1d2e3f4a5b6c/content'], type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_BATCH_FILES)
  @Matches(UPLOAD_URL_PATTERN, { each: true, message: 'each value in fileUrls must be an upload URL such as /file-upload/<id>/content' })
  fileUrls?: string[];

  @ApiPropertyOptional({ description: 'Auto mode; when absent, every step runs with the default chunk sizes (enabled: true)', type: AutoModeConfigDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => AutoModeConfigDto)
  autoMode?: AutoModeConfigDto;
}

/** One story from text or from one uploaded file (give exactly one of text, fileId, fileUrl). */
export class CreateStoryDto extends StorySettingsDto {
  @ApiPropertyOptional({ description: 'The story text (plain text; NFC and LF line ends are applied)', example: 'Ngày xửa ngày xưa, ở một làng nọ…', minLength: 1, maxLength: 1_000_000 })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(1_000_000)
  text?: string;

  @ApiPropertyOptional({ description: 'Id of an uploaded file', example: '7c1e2b4a-9d3f-4e5a-8b6c-1d2e3f4a5b6c', format: 'uuid' })
  @IsOptional()
  @IsUUID('all')
  fileId?: string;

  @ApiPropertyOptional({ description: 'URL of an uploaded file, as the upload endpoints return it', example: '/file-upload/7c1e2b4a-9d3f-4e5a-8b6c-1d2e3f4a5b6c/content' })
  @IsOptional()
  @Matches(UPLOAD_URL_PATTERN, { message: 'fileUrl must be an upload URL such as /file-upload/<id>/content' })
  fileUrl?: string;

  @ApiPropertyOptional({ description: 'Auto mode used when the story is generated (POST /stories/:id/generate may replace it); default: off', type: AutoModeConfigDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => AutoModeConfigDto)
  autoMode?: AutoModeConfigDto;
}

/** Seed `GenerateStoryDto`: (re)runs the story step with these settings, then auto mode if enabled. */
export class GenerateStoryDto extends StorySettingsDto {
  @ApiPropertyOptional({ description: 'Auto mode after the story step; when absent the story keeps the one it has (off unless set at creation)', type: AutoModeConfigDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => AutoModeConfigDto)
  autoMode?: AutoModeConfigDto;
}

export class StoryListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only stories of this batch', example: '2f4e6a8c-1b3d-4f5a-9c7e-0a2b4c6d8e1f', format: 'uuid' })
  @IsOptional()
  @IsUUID('all')
  batchId?: string;

  @ApiPropertyOptional({ description: 'Only stories with this status', enum: storyStatus.enumValues, example: 'completed' })
  @IsOptional()
  @IsIn(storyStatus.enumValues)
  status?: (typeof storyStatus.enumValues)[number];
}

import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Authenticated } from '../auth/decorators.js';
import { ProvidersDto, VoicePreviewQueryDto, VoiceQueryDto, VoicesDto } from '../dtos/provider.dto.js';
import { ApiErrors } from '../http/api-errors.decorator.js';
import { ProviderChoiceService } from '../services/provider-choice.service.js';
import { VoicePreviewService } from '../services/voice-preview.service.js';

/** What can make a story here: providers per capability, their voices, and a voice sample. */
@ApiTags('providers')
@Authenticated()
@Controller()
export class ProviderController {
  constructor(
    private readonly choices: ProviderChoiceService,
    private readonly previews: VoicePreviewService,
  ) {}

  @Get('providers')
  @ApiOperation({ summary: 'Story writers, image generators and speech synthesizers: configured (has a key), default, known models' })
  @ApiOkResponse({ type: ProvidersDto })
  providers(): ProvidersDto {
    return this.choices.describe();
  }

  @Get('voices')
  @ApiOperation({ summary: 'Voices of one speech provider or all, optionally only those speaking a language' })
  @ApiOkResponse({ type: VoicesDto })
  @ApiErrors(400)
  async voices(@Query() query: VoiceQueryDto): Promise<VoicesDto> {
    return { voices: await this.choices.voices(query.provider, query.language) };
  }

  @Get('voices/preview')
  @ApiOperation({ summary: 'A short clip of a voice (audio/mpeg or audio/wav)' })
  @ApiProduces('audio/mpeg', 'audio/wav')
  @ApiErrors(400, 422, 502)
  async preview(@Query() query: VoicePreviewQueryDto, @Res() res: Response): Promise<void> {
    const clip = await this.previews.preview(query.provider, query.voice, query.text);
    res.setHeader('content-type', clip.mediaType);
    res.setHeader('cache-control', 'private, max-age=3600');
    res.end(Buffer.from(clip.data));
  }
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { SPEECH_SYNTHESIZERS } from '../shared/provider-names.js';

export class ProviderInfoDto {
  @ApiProperty({ description: 'Provider name, as used in a choice', example: 'gemini' }) name!: string;
  @ApiProperty({ description: 'False for a hosted provider with no API key on this server (choosing it answers 422)', example: true }) configured!: boolean;
  @ApiProperty({ description: "The server's default for this capability", example: false }) default!: boolean;
  @ApiPropertyOptional({ description: 'Known models, the default first (others the vendor serves work too)', type: [String], example: ['gemini-2.5-flash', 'gemini-2.5-pro'] }) models?: string[];
}

/** `GET /providers`. */
export class ProvidersDto {
  @ApiProperty({ description: 'Story writers', type: [ProviderInfoDto] }) writers!: ProviderInfoDto[];
  @ApiProperty({ description: 'Image generators', type: [ProviderInfoDto] }) images!: ProviderInfoDto[];
  @ApiProperty({ description: 'Speech synthesizers', type: [ProviderInfoDto] }) speech!: ProviderInfoDto[];
}

export class VoiceDto {
  @ApiProperty({ description: 'Speech provider', example: 'edge' }) provider!: string;
  @ApiProperty({ description: 'Voice id, as used in a choice (`edge:<id>`)', example: 'vi-VN-HoaiMyNeural' }) id!: string;
  @ApiProperty({ description: 'Name to show', example: 'HoaiMy' }) name!: string;
  @ApiProperty({ description: 'BCP 47 tag, or * for voices that speak every language of the model', example: 'vi-VN' }) language!: string;
  @ApiPropertyOptional({ description: 'Voice gender when known', enum: ['female', 'male'], example: 'female' }) gender?: 'female' | 'male';
}

/** `GET /voices`. */
export class VoicesDto {
  @ApiProperty({ description: 'Matching voices', type: [VoiceDto] }) voices!: VoiceDto[];
}

const LANGUAGE = /^[a-z]{2,3}$/;

export class VoiceQueryDto {
  @ApiPropertyOptional({ enum: SPEECH_SYNTHESIZERS, description: 'Only this provider' })
  @IsOptional()
  @IsIn(SPEECH_SYNTHESIZERS)
  provider?: string;

  @ApiPropertyOptional({ description: 'Only voices that speak this ISO 639-1 language', example: 'vi' })
  @IsOptional()
  @Matches(LANGUAGE, { message: 'language must be an ISO 639-1 code such as vi, en or fr' })
  language?: string;
}

export class VoicePreviewQueryDto {
  @ApiProperty({ description: 'Speech provider', enum: SPEECH_SYNTHESIZERS, example: 'edge' })
  @IsIn(SPEECH_SYNTHESIZERS)
  provider!: string;

  @ApiProperty({ description: 'Voice id (GET /voices)', example: 'vi-VN-HoaiMyNeural', maxLength: 100 })
  @IsString()
  @MaxLength(100)
  voice!: string;

  @ApiPropertyOptional({ description: 'What to say (at most 200 characters); a greeting in the voice\'s language by default', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  text?: string;
}

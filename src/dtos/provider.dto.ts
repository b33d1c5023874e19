import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { SPEECH_SYNTHESIZERS } from '../providers/catalog.js';

export class ProviderInfoDto {
  @ApiProperty({ example: 'gemini' }) name!: string;
  @ApiProperty({ description: 'False for a hosted provider with no API key on this server (choosing it answers 422)' }) configured!: boolean;
  @ApiProperty({ description: "The server's default for this capability" }) default!: boolean;
  @ApiPropertyOptional({ description: 'Known models, the default first (others the vendor serves work too)', type: [String] }) models?: string[];
}

/** `GET /providers`. */
export class ProvidersDto {
  @ApiProperty({ type: [ProviderInfoDto] }) writers!: ProviderInfoDto[];
  @ApiProperty({ type: [ProviderInfoDto] }) images!: ProviderInfoDto[];
  @ApiProperty({ type: [ProviderInfoDto] }) speech!: ProviderInfoDto[];
}

export class VoiceDto {
  @ApiProperty({ example: 'edge' }) provider!: string;
  @ApiProperty({ example: 'vi-VN-HoaiMyNeural' }) id!: string;
  @ApiProperty({ example: 'HoaiMy' }) name!: string;
  @ApiProperty({ description: 'BCP 47 tag, or * for voices that speak every language of the model', example: 'vi-VN' }) language!: string;
  @ApiPropertyOptional({ enum: ['female', 'male'] }) gender?: 'female' | 'male';
}

/** `GET /voices`. */
export class VoicesDto {
  @ApiProperty({ type: [VoiceDto] }) voices!: VoiceDto[];
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
  @ApiProperty({ enum: SPEECH_SYNTHESIZERS, example: 'edge' })
  @IsIn(SPEECH_SYNTHESIZERS)
  provider!: string;

  @ApiProperty({ example: 'vi-VN-HoaiMyNeural', maxLength: 100 })
  @IsString()
  @MaxLength(100)
  voice!: string;

  @ApiPropertyOptional({ description: 'What to say (at most 200 characters); a greeting in the voice\'s language by default', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  text?: string;
}

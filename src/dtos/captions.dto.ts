import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNumber, IsOptional, Matches, Max, Min } from 'class-validator';
import { CAPTION_POSITIONS, CAPTION_PRESETS, type CaptionPosition, type CaptionPreset, HEX_COLOUR } from '../shared/caption-options.js';

const COLOUR_MESSAGE = 'must be a colour written #RRGGBB, e.g. #FFD700';

/** How burned captions look (`autoMode.captions`); the preset fills what is left out. Used when `burnSubtitles` is on. */
export class CaptionOptionsDto {
  @ApiPropertyOptional({ description: 'classic: sentence cues at the bottom; shorts: 1-4 large words, the spoken word highlighted', enum: CAPTION_PRESETS, default: 'classic', example: 'shorts' })
  @IsOptional()
  @IsIn(CAPTION_PRESETS)
  preset?: CaptionPreset;

  @ApiPropertyOptional({ description: 'Text height as a share of the frame height (classic 0.045, shorts 0.075)', minimum: 0.02, maximum: 0.15, example: 0.06 })
  @IsOptional()
  @IsNumber()
  @Min(0.02)
  @Max(0.15)
  size?: number;

  @ApiPropertyOptional({ description: 'Text colour', example: '#FFFFFF', pattern: HEX_COLOUR.source })
  @IsOptional()
  @Matches(HEX_COLOUR, { message: `colour ${COLOUR_MESSAGE}` })
  colour?: string;

  @ApiPropertyOptional({ description: 'Colour of the word being spoken (shorts)', example: '#FFD700', pattern: HEX_COLOUR.source })
  @IsOptional()
  @Matches(HEX_COLOUR, { message: `highlightColour ${COLOUR_MESSAGE}` })
  highlightColour?: string;

  @ApiPropertyOptional({ description: 'Outline colour', example: '#000000', pattern: HEX_COLOUR.source })
  @IsOptional()
  @Matches(HEX_COLOUR, { message: `outlineColour ${COLOUR_MESSAGE}` })
  outlineColour?: string;

  @ApiPropertyOptional({ description: 'Outline width as a share of the text height (classic 0.0625, shorts 0.1)', minimum: 0, maximum: 0.3, example: 0.08 })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(0.3)
  outline?: number;

  @ApiPropertyOptional({ description: 'Where captions sit (default bottom: 6 % above the edge of a landscape frame, 20 % in a portrait one, clear of the app buttons and of the text cards carry in their middle)', enum: CAPTION_POSITIONS, example: 'bottom' })
  @IsOptional()
  @IsIn(CAPTION_POSITIONS)
  position?: CaptionPosition;
}

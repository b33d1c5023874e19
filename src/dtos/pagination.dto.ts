import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { MAX_PARAM_NUMBER, parseDecimalParam } from '../shared/decimal-param.js';

/** A query number by the strict rule of {@link parseDecimalParam}; NaN (refused by IsInt) otherwise. */
const StrictNumber = () => Transform(({ value }) => (value === undefined ? undefined : (parseDecimalParam(value) ?? Number.NaN)));
const DIGITS = (name: string) => ({ message: `${name} must be a whole number in decimal digits, without leading zeros` });

export class PageQueryDto {
  @ApiPropertyOptional({ description: 'Page number, from 1', example: 1, default: 1, minimum: 1, maximum: MAX_PARAM_NUMBER })
  @IsOptional()
  @StrictNumber()
  @IsInt(DIGITS('page'))
  @Min(1)
  @Max(MAX_PARAM_NUMBER)
  page?: number;

  @ApiPropertyOptional({ description: 'Items per page', example: 20, default: 20, minimum: 1, maximum: 100 })
  @IsOptional()
  @StrictNumber()
  @IsInt(DIGITS('limit'))
  @Min(1)
  @Max(100)
  limit?: number;
}

/** Offset and limit of a page query, with its defaults filled in. */
export function pageOf(query: PageQueryDto): { page: number; limit: number; offset: number } {
  const page = query.page ?? 1;
  const limit = query.limit ?? 20;
  return { page, limit, offset: (page - 1) * limit };
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsEmail, IsJWT, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';

const normalizeEmail = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value);

export class RegisterDto {
  @ApiProperty({ description: 'Email address, used to log in (compared without case)', example: 'lan@example.com', maxLength: 254 })
  @Transform(normalizeEmail)
  @IsEmail()
  @MaxLength(254)
  email!: string;

  @ApiProperty({ description: 'Password, 8 to 256 characters; stored only as an argon2id hash', example: 'correct horse battery staple', minLength: 8, maxLength: 256 })
  @IsString()
  @MinLength(8)
  @MaxLength(256)
  password!: string;

  @ApiPropertyOptional({ description: 'Name shown in the app', example: 'Lan Nguyễn', maxLength: 100 })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  displayName?: string;
}

export class LoginDto {
  @ApiProperty({ description: 'Email address of the account', example: 'lan@example.com' })
  @Transform(normalizeEmail)
  @IsEmail()
  @MaxLength(254)
  email!: string;

  @ApiProperty({ description: 'Password of the account', example: 'correct horse battery staple' })
  @IsString()
  @MaxLength(256)
  password!: string;
}

export class RefreshDto {
  @ApiProperty({ description: 'The refresh token from login, register or the last refresh (each works once)', example: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOi…' })
  @IsJWT()
  refreshToken!: string;
}

export class LogoutDto {
  @ApiPropertyOptional({ description: 'End every session of the account, not only this one', example: false, default: false })
  @IsOptional()
  @IsBoolean()
  all?: boolean;

  @ApiPropertyOptional({ description: 'The session\'s refresh token: ends that session even when the access token has expired (no Authorization header needed)', example: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9…' })
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  refreshToken?: string;
}

export class UserDto {
  @ApiProperty({ description: 'User id', example: '0b6f1a3e-6d2c-4f6b-9a57-3c1d2e4f5a6b', format: 'uuid' })
  id!: string;

  @ApiProperty({ description: 'Email address (lower case)', example: 'lan@example.com' })
  email!: string;

  @ApiProperty({ description: 'Name shown in the app', example: 'Lan Nguyễn', nullable: true, type: String })
  displayName!: string | null;

  @ApiProperty({ description: 'When the account was made', example: '2026-01-31T09:12:44.120Z' })
  createdAt!: Date;
}

export class TokenResponseDto {
  @ApiProperty({ description: 'JWT access token: send as `Authorization: Bearer <token>`', example: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOi…' })
  accessToken!: string;

  @ApiProperty({ description: 'JWT refresh token: trade it at POST /auth/refresh for a new pair; it works once', example: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOi…' })
  refreshToken!: string;

  @ApiProperty({ description: 'Always `Bearer`', example: 'Bearer' })
  tokenType!: 'Bearer';

  @ApiProperty({ description: 'Seconds until the access token expires', example: 900 })
  expiresIn!: number;

  @ApiProperty({ description: 'Seconds until the refresh token expires', example: 2592000 })
  refreshExpiresIn!: number;

  @ApiProperty({ description: 'The signed-in user', type: UserDto })
  user!: UserDto;
}

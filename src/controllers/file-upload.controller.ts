import { Controller, Get, Post, Query, Res, UploadedFile, UploadedFiles, UseInterceptors } from '@nestjs/common';
import { FileInterceptor, FilesInterceptor } from '@nestjs/platform-express';
import { ApiBody, ApiConsumes, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import type { AuthUser } from '../shared/auth-user.js';
import { Auth, Authenticated } from '../auth/decorators.js';
import { pageOf, PageQueryDto } from '../dtos/pagination.dto.js';
import { UploadedFileDto, UploadedFilesDto, UploadFileBodyDto, UploadFilesBodyDto, UploadPageDto } from '../dtos/upload.dto.js';
import { ApiErrors } from '../http/api-errors.decorator.js';
import { ApiUuidParam, UuidParam } from '../http/params.js';
import { RateLimit } from '../http/rate-limit.js';
import { sendFile } from '../http/send-file.js';
import { FileUploadService, type ReceivedFile } from '../services/file-upload.service.js';
import { MusicFileDto, UploadMusicBodyDto } from '../dtos/music.dto.js';
import { musicUploadOptions } from '../http/upload.options.js';

/** The seed's upload endpoints and the user's uploads (FileUploadService); files stream to disk through multer. */
@ApiTags('file-upload')
@Authenticated()
@Controller('file-upload')
export class FileUploadController {
  constructor(private readonly service: FileUploadService) {}

  @Post('upload')
  @RateLimit('upload')
  @UseInterceptors(FileInterceptor('file'))
  @ApiOperation({ summary: 'Upload one story file (.txt, .doc, .docx); its text is read at once' })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: UploadFileBodyDto })
  @ApiCreatedResponse({ type: UploadedFileDto })
  @ApiErrors(400, 413, 415, 422)
  upload(@Auth() auth: AuthUser, @UploadedFile() file: ReceivedFile | undefined): Promise<UploadedFileDto> {
    return this.service.ingestOne(auth, file);
  }

  @Post('batch-upload')
  @RateLimit('upload')
  @UseInterceptors(FilesInterceptor('files'))
  @ApiOperation({ summary: 'Upload up to 10 story files at once; all are kept, or none when one cannot be read' })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: UploadFilesBodyDto })
  @ApiCreatedResponse({ type: UploadedFilesDto })
  @ApiErrors(400, 413, 415, 422)
  batchUpload(@Auth() auth: AuthUser, @UploadedFiles() files: ReceivedFile[] | undefined): Promise<UploadedFilesDto> {
    return this.service.ingestMany(auth, files ?? []);
  }

  @Post('music')
  @RateLimit('upload')
  @UseInterceptors(FileInterceptor('file', musicUploadOptions))
  @ApiOperation({ summary: 'Upload background music for videos (MP3, WAV, OGG, M4A, checked by its content); use its id as autoMode.music.fileId' })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: UploadMusicBodyDto })
  @ApiCreatedResponse({ type: MusicFileDto })
  @ApiErrors(400, 413, 415, 422)
  music(@Auth() auth: AuthUser, @UploadedFile() file: ReceivedFile | undefined): Promise<MusicFileDto> {
    return this.service.ingestMusic(auth, file);
  }

  @Get()
  @ApiOperation({ summary: 'Your uploads, newest first' })
  @ApiOkResponse({ type: UploadPageDto })
  @ApiErrors(400)
  list(@Auth() auth: AuthUser, @Query() query: PageQueryDto): Promise<UploadPageDto> {
    return this.service.list(auth, pageOf(query));
  }

  @Get(':id')
  @ApiUuidParam('id', 'Upload id')
  @ApiOperation({ summary: 'One upload' })
  @ApiOkResponse({ type: UploadedFileDto })
  @ApiErrors(400, 404)
  get(@Auth() auth: AuthUser, @UuidParam('id') id: string): Promise<UploadedFileDto> {
    return this.service.get(auth, id);
  }

  @Get(':id/content')
  @ApiUuidParam('id', 'Upload id')
  @ApiOperation({ summary: 'Download the original file as it was sent' })
  @ApiOkResponse({
    description: 'The file',
    content: Object.fromEntries(
      ['text/plain', 'application/msword', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'].map((type) => [type, { schema: { type: 'string', format: 'binary' } }]),
    ),
  })
  @ApiErrors(400, 404)
  content(@Auth() auth: AuthUser, @UuidParam('id') id: string, @Res() res: Response): Promise<void> {
    return sendFile(res, () => this.service.original(auth, id));
  }
}

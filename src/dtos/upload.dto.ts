import { ApiProperty } from '@nestjs/swagger';
import type { Upload } from '../db/schema.js';

/** Where an upload's original file can be downloaded. */
export const uploadUrl = (id: string) => `/file-upload/${id}/content`;

export class UploadedFileDto {
  @ApiProperty({ description: 'Upload id: pass it in `fileIds` of POST /stories/batch-create or `fileId` of POST /stories', example: '7c1e2b4a-9d3f-4e5a-8b6c-1d2e3f4a5b6c', format: 'uuid' })
  id!: string;

  @ApiProperty({ description: 'Where the original file can be downloaded (relative to the API); also accepted in `fileUrls`', example: '/file-upload/7c1e2b4a-9d3f-4e5a-8b6c-1d2e3f4a5b6c/content' })
  url!: string;

  @ApiProperty({ description: 'File name as sent (UTF-8, NFC)', example: 'Truyện cổ tích.docx' })
  name!: string;

  @ApiProperty({ description: 'Size of the original file, bytes', example: 18234 })
  size!: number;

  @ApiProperty({ description: 'Format detected from the content (not from the name)', enum: ['txt', 'docx', 'doc'], example: 'docx' })
  format!: Upload['format'];

  @ApiProperty({ description: 'Text encoding the file was read in (.txt only), else null', example: 'UTF-8', nullable: true, type: String })
  encoding!: string | null;

  @ApiProperty({ description: 'Words in the extracted text', example: 1194 })
  wordCount!: number;

  @ApiProperty({ description: 'When it was uploaded', example: '2026-01-31T09:12:44.120Z' })
  createdAt!: Date;
}

export class UploadedFilesDto {
  @ApiProperty({ description: 'The stored files, in the order they were sent', type: [UploadedFileDto] })
  files!: UploadedFileDto[];
}

export class UploadPageDto {
  @ApiProperty({ description: 'Uploads on this page, newest first', type: [UploadedFileDto] })
  items!: UploadedFileDto[];

  @ApiProperty({ description: 'Page number', example: 1 })
  page!: number;

  @ApiProperty({ description: 'Items per page', example: 20 })
  limit!: number;

  @ApiProperty({ description: 'Uploads in all', example: 3 })
  total!: number;
}

/** OpenAPI body of POST /file-upload/upload. */
export class UploadFileBodyDto {
  @ApiProperty({ description: 'One story file: .txt, .doc or .docx, at most 10 MB (UPLOAD_MAX_BYTES)', type: 'string', format: 'binary' })
  file!: unknown;
}

/** OpenAPI body of POST /file-upload/batch-upload. */
export class UploadFilesBodyDto {
  @ApiProperty({
    description: 'Story files: .txt, .doc or .docx, at most 10 files (UPLOAD_MAX_FILES) of at most 10 MB each',
    type: 'array',
    items: { type: 'string', format: 'binary' },
  })
  files!: unknown[];
}

/** An upload as the API shows it. */
export function mapUpload(upload: Upload): UploadedFileDto {
  return {
    id: upload.id,
    url: uploadUrl(upload.id),
    name: upload.originalName,
    size: upload.sizeBytes,
    format: upload.format,
    encoding: upload.encoding,
    wordCount: upload.wordCount,
    createdAt: upload.createdAt,
  };
}

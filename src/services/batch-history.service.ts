import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../shared/auth-user.js';
import { type BatchPageDto, mapBatchListItem } from '../dtos/batch-list.dto.js';
import { pageOf, type PageQueryDto } from '../dtos/pagination.dto.js';
import { notFound } from '../shared/api-error.js';
import type { StreamedZip } from '../dtos/file-download.js';
import { BatchRepository } from '../repositories/batch.repository.js';
import { PackageService } from './package.service.js';

/** A user's batches: the history list (GET /stories/batches) and "Download all" (GET /stories/batch/:id/package). */
@Injectable()
export class BatchHistoryService {
  constructor(
    private readonly batches: BatchRepository,
    private readonly packages: PackageService,
  ) {}

  /** The user's batches, newest first, one page (`page` from 1, `limit` 1–100, default 20). */
  async list(user: AuthUser, query: PageQueryDto): Promise<BatchPageDto> {
    const page = pageOf(query);
    const { items, total } = await this.batches.listByUser(user.id, page);
    return { items: items.map(mapBatchListItem), page: page.page, limit: page.limit, total };
  }

  /**
   * Every story of the batch in one ZIP, one folder per story (as `storyforge run` writes them),
   * streamed. @throws ApiError 404 when the batch is not the user's.
   */
  async package(user: AuthUser, batchId: string): Promise<StreamedZip> {
    const batch = await this.batches.get(batchId);
    if (!batch || batch.userId !== user.id) throw notFound('Batch', batchId);
    const storyIds = await this.batches.storyIds(batchId);
    return { fileName: `batch-${batchId.slice(0, 8)}.zip`, write: (output) => this.packages.streamStories(storyIds, output) };
  }
}

import { Injectable } from '@nestjs/common';
import { isUUID } from 'class-validator';
import type { AuthUser } from '../shared/auth-user.js';
import { type BatchStatusDto, batchRoom, storyRoom } from '../dtos/batch.dto.js';
import type { StoryDetailDto } from '../dtos/story-response.dto.js';
import { ApiError, notFound } from '../shared/api-error.js';
import { BatchRepository } from '../repositories/batch.repository.js';
import { LiveEventsRepository } from '../repositories/live-events.repository.js';
import { StoryRepository } from '../repositories/story.repository.js';
import { BatchApiService } from './batch-api.service.js';
import { StoryService } from './story.service.js';

/** The answer to a join: the room, the number of its latest event, and the state now. */
export interface JoinAnswer {
  room: string;
  /** Events with a higher `seq` came after this snapshot; those up to it are in it. */
  seq: number;
  batch?: BatchStatusDto;
  story?: StoryDetailDto;
}

/**
 * Joining the Socket.IO room of a batch or a story: only its owner may, and the answer carries the
 * current snapshot from the database, so a client that joins late or reconnects misses nothing.
 * The socket enters the room before the sequence number and the snapshot are read: every event
 * after the snapshot reaches it, and any event it gets with `seq` ≤ the answer's is already in it.
 */
@Injectable()
export class RoomService {
  constructor(
    private readonly live: LiveEventsRepository,
    private readonly batchRows: BatchRepository,
    private readonly storyRows: StoryRepository,
    private readonly batches: BatchApiService,
    private readonly stories: StoryService,
  ) {}

  /**
   * @param enter puts the socket in the room.
   * @throws ApiError 400 when the id is not a UUID; 404 when the batch or story does not exist or is
   * another user's (the socket does not enter the room then).
   */
  async join(user: AuthUser, kind: 'batch' | 'story', id: unknown, enter: (room: string) => Promise<void> | void): Promise<JoinAnswer> {
    const field = kind === 'batch' ? 'batchId' : 'storyId';
    if (typeof id !== 'string' || !isUUID(id)) {
      throw new ApiError(400, 'validation-failed', `${field} must be a UUID`, [{ field, message: `${field} must be a UUID` }]);
    }
    const owner = kind === 'batch' ? (await this.batchRows.get(id))?.userId : (await this.storyRows.get(id))?.userId;
    if (owner !== user.id) throw notFound(kind === 'batch' ? 'Batch' : 'Story', id);
    if (kind === 'batch') {
      const room = batchRoom(id);
      await enter(room);
      const seq = await this.live.currentSeq(room);
      return { room, seq, batch: await this.batches.status(user, id) };
    }
    const room = storyRoom(id);
    await enter(room);
    const seq = await this.live.currentSeq(room);
    return { room, seq, story: await this.stories.get(user, id) };
  }
}

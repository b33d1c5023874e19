import { Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import {
  Ack,
  ConnectedSocket,
  MessageBody,
  type OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
} from '@nestjs/websockets';
import type { Server, Socket } from 'socket.io';
import type { AuthUser } from '../shared/auth-user.js';
import { credentialFrom } from '../auth/credentials.js';
import { ApiError, type ErrorBody } from '../shared/api-error.js';
import { LiveEventsRepository } from '../repositories/live-events.repository.js';
import { AuthService } from '../services/auth.service.js';
import { type JoinAnswer, RoomService } from '../services/room.service.js';

type Answer = JoinAnswer | { room: string; left: true } | { error: ErrorBody };
type AckFn = ((answer: Answer) => void) | undefined;

/**
 * Socket.IO endpoint (path `/socket.io`) for live progress.
 *
 * - Handshake: needs a JWT access token or API key in `auth.token`, `Authorization: Bearer …` or
 *   `X-API-Key`; without one the connection is refused (`connect_error` with `data` = error body).
 * - `join-batch {batchId}` / `join-story {storyId}`: enters the room `batch-<id>` / `story-<id>`
 *   of one of the user's batches or stories and answers (ack, or a `snapshot` event without one)
 *   `{room, seq, batch | story}`; another user's id answers `{error}` with 404.
 * - `leave {room}`: leaves a room.
 * - Room events (from any process, through Redis) carry `room` and `seq`, 1, 2, 3 … per room.
 */
@WebSocketGateway({ transports: ['websocket', 'polling'] })
export class EventsGateway implements OnGatewayInit, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('EventsGateway');
  private unsubscribe?: () => void;

  @WebSocketServer()
  server!: Server;

  constructor(
    private readonly auth: AuthService,
    private readonly rooms: RoomService,
    private readonly live: LiveEventsRepository,
  ) {}

  afterInit(server: Server): void {
    server.use((socket, next) => {
      this.auth
        .authenticate(socket.handshake.auth?.token ?? credentialFrom(socket.handshake.headers))
        .then(async (user) => {
          socket.data.user = user;
          // Rooms by which a logout finds a signed-in socket (on any API process, through the Redis adapter).
          if (user.sessionId) await socket.join([signedInRoom(user.id), sessionRoom(user.sessionId)]);
          next();
        })
        .catch((error: unknown) => next(handshakeError(error)));
    });
  }

  /** Hands every room event published in Redis to this process's sockets in that room. */
  async onModuleInit(): Promise<void> {
    this.unsubscribe = await this.live.subscribe((message) => {
      this.server?.local.to(message.room).emit(message.event, { ...message.data, room: message.room, seq: message.seq });
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  /**
   * Disconnects the sockets signed in with a session that just ended (logout), or with any
   * session of the user (`all`), on every API process. Sockets opened with an API key stay.
   */
  disconnectSessions(user: AuthUser, all: boolean): void {
    if (all) this.server?.in(signedInRoom(user.id)).disconnectSockets(true);
    else if (user.sessionId) this.server?.in(sessionRoom(user.sessionId)).disconnectSockets(true);
  }

  @SubscribeMessage('join-batch')
  async joinBatch(@ConnectedSocket() socket: Socket, @MessageBody() body: { batchId?: unknown } | undefined, @Ack() ack: AckFn): Promise<void> {
    await this.reply(socket, ack, () => this.rooms.join(userOf(socket), 'batch', body?.batchId, (room) => socket.join(room)));
  }

  @SubscribeMessage('join-story')
  async joinStory(@ConnectedSocket() socket: Socket, @MessageBody() body: { storyId?: unknown } | undefined, @Ack() ack: AckFn): Promise<void> {
    await this.reply(socket, ack, () => this.rooms.join(userOf(socket), 'story', body?.storyId, (room) => socket.join(room)));
  }

  @SubscribeMessage('leave')
  async leave(@ConnectedSocket() socket: Socket, @MessageBody() body: { room?: unknown } | undefined, @Ack() ack: AckFn): Promise<void> {
    await this.reply(socket, ack, async () => {
      const room = typeof body?.room === 'string' ? body.room : '';
      await socket.leave(room);
      return { room, left: true as const };
    });
  }

  private async reply(socket: Socket, ack: AckFn, work: () => Promise<Answer>): Promise<void> {
    let answer: Answer;
    try {
      answer = await work();
    } catch (error) {
      if (!(error instanceof ApiError)) this.logger.error((error as Error).message, (error as Error).stack);
      answer = { error: error instanceof ApiError ? error.body : { statusCode: 500, code: 'internal-error', message: 'Something went wrong on the server' } };
    }
    if (typeof ack === 'function') ack(answer);
    else socket.emit('error' in answer ? 'exception' : 'snapshot', answer);
  }
}

function userOf(socket: Socket): AuthUser {
  return socket.data.user as AuthUser;
}

/** A refused handshake: the client's `connect_error` has the message and `data` = the error body. */
function handshakeError(error: unknown): Error & { data: ErrorBody } {
  const body: ErrorBody =
    error instanceof ApiError ? error.body : { statusCode: 401, code: 'unauthorized', message: 'A valid access token or API key is needed' };
  return Object.assign(new Error(body.message), { data: body });
}

/** Internal rooms (never announced to clients): a user's signed-in sockets, and one session's. */
const signedInRoom = (userId: string) => `signed-in-${userId}`;
const sessionRoom = (sessionId: string) => `session-${sessionId}`;

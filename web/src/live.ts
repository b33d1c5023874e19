import { io, type Socket } from 'socket.io-client';
import { useEffect, useRef, useState } from 'preact/hooks';
import { accessToken } from './api';

const BATCH_EVENTS = ['batch-stories-start', 'batch-stories-progress', 'batch-stories-complete', 'batch-stories-error'];
const STORY_EVENTS = ['auto-mode-start', 'auto-mode-progress', 'auto-mode-complete', 'auto-mode-error', 'story-step'];

/**
 * Follows rooms on the Socket.IO connection and calls `onChange` (at most every 250 ms) when an
 * event arrives in one of them, and after each (re)connect: the page then reads the state again,
 * so a page opened late or a dropped connection still shows the right state.
 * @returns whether the connection is up.
 */
export function useLive(rooms: { batchId?: string; storyIds?: string[] }, onChange: () => void): boolean {
  const [connected, setConnected] = useState(true);
  const callback = useRef(onChange);
  callback.current = onChange;
  const key = JSON.stringify(rooms);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const changed = () => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        callback.current();
      }, 250);
    };
    const socket: Socket = io({ path: '/socket.io', auth: (cb) => cb({ token: accessToken() }), transports: ['websocket'] });
    socket.on('connect', async () => {
      setConnected(true);
      try {
        if (rooms.batchId) await socket.emitWithAck('join-batch', { batchId: rooms.batchId });
        for (const storyId of rooms.storyIds ?? []) await socket.emitWithAck('join-story', { storyId });
      } catch {
        // The page was left or the connection dropped while joining: the next connect joins again.
        return;
      }
      changed();
    });
    socket.on('disconnect', () => setConnected(false));
    for (const name of [...BATCH_EVENTS, ...STORY_EVENTS]) socket.on(name, changed);
    return () => {
      clearTimeout(timer);
      socket.close();
    };
  }, [key]);
  return connected;
}

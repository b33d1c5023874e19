import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpTestApp, startHttpTestApp } from '../../support/http-app.js';

const run = promisify(execFile);

/** A short sound made by ffmpeg in a container, as bytes. */
async function sound(format: 'mp3' | 'wav' | 'ogg' | 'ipod' | 'flac', seconds = 1.5): Promise<Buffer> {
  const codec = { mp3: ['-c:a', 'libmp3lame'], wav: ['-c:a', 'pcm_s16le'], ogg: ['-c:a', 'libvorbis'], ipod: ['-c:a', 'aac', '-movflags', 'frag_keyframe+empty_moov'], flac: ['-c:a', 'flac'] }[format];
  const { stdout } = await run(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`, ...codec, '-f', format, '-'],
    { encoding: 'buffer', maxBuffer: 32 * 1024 * 1024 },
  );
  return stdout as unknown as Buffer;
}

describe('music uploads and autoMode.music', () => {
  let t: HttpTestApp;
  let token: string;
  let uploadId: string;

  beforeAll(async () => {
    t = await startHttpTestApp({ workers: false });
    token = (await t.api.register('music@example.com')).token;
    const story = await t.api.uploadFiles(token, [{ name: 'tale.txt', bytes: Buffer.from('A Tale\n\nOnce upon a time a fox sang by the river.\n') }]);
    uploadId = story.body.files[0].id;
  });
  afterAll(async () => t?.close());

  const upload = (name: string, bytes: Uint8Array) => t.api.uploadFiles(token, [{ name, bytes }], 'file', '/file-upload/music');

  it('takes MP3, WAV, OGG and M4A by their content, whatever their names say', async () => {
    for (const [format, name, expected] of [
      ['mp3', 'theme.mp3', 'mp3'],
      ['wav', 'theme.wav', 'wav'],
      ['ogg', 'misnamed.mp3', 'ogg'],
      ['ipod', 'theme.m4a', 'm4a'],
    ] as const) {
      const answer = await upload(name, await sound(format));
      expect([answer.status, answer.body.format], name).toEqual([201, expected]);
      expect(answer.body.name).toBe(name);
      expect(Math.abs(answer.body.durationMs - 1500)).toBeLessThan(100);
    }
  });

  it('refuses what is not usable music with 415 or 422, saying what is wrong and what to send', async () => {
    const text = await upload('song.mp3', Buffer.from('not a song at all, just words\n'.repeat(20)));
    expect([text.status, text.body.code]).toEqual([415, 'not-audio']);
    expect(text.body.message).toMatch(/"song\.mp3" is not an audio file.*send an MP3, WAV, OGG or M4A/);
    const flac = await upload('song.flac', await sound('flac'));
    expect([flac.status, flac.body.code]).toEqual([415, 'unsupported-format']);
    expect(flac.body.message).toMatch(/flac audio; send an MP3, WAV, OGG or M4A/);
    const short = await upload('blip.wav', await sound('wav', 0.3));
    expect([short.status, short.body.code]).toEqual([422, 'music-too-short']);
    const empty = await upload('empty.mp3', new Uint8Array());
    expect([empty.status, empty.body.code]).toEqual([422, 'empty-file']);
    const none = await t.api.post('/file-upload/music', { token, form: new FormData() });
    expect([none.status, none.body.code]).toEqual([400, 'missing-file']);
  });

  it('takes the music in a batch only for a video, and only the user\'s own', async () => {
    const music = (await upload('theme.mp3', await sound('mp3'))).body.id as string;
    const batch = (autoMode: object, as = token) => t.api.post('/stories/batch-create', { token: as, json: { fileIds: [uploadId], autoMode } });

    const noVideo = await batch({ music: { fileId: music } });
    expect([noVideo.status, noVideo.body.errors?.[0]?.field]).toEqual([400, 'autoMode.music']);
    expect(noVideo.body.message).toContain('set renderVideo to true');

    const tooLoud = await batch({ renderVideo: true, music: { fileId: music, volumeDb: 6 } });
    expect([tooLoud.status, tooLoud.body.errors?.[0]?.field]).toEqual([400, 'autoMode.music.volumeDb']);

    const other = await t.api.register('other@example.com');
    const theirs = await t.api.uploadFiles(other.token, [{ name: 'x.txt', bytes: Buffer.from('X\n\nAnother little story about a cat.\n') }]);
    const stolen = await t.api.post('/stories/batch-create', { token: other.token, json: { fileIds: [theirs.body.files[0].id], autoMode: { renderVideo: true, music: { fileId: music } } } });
    expect([stolen.status, stolen.body.errors?.[0]?.field]).toEqual([400, 'autoMode.music.fileId']);

    const ok = await batch({ renderVideo: true, videoPreset: '9:16', titleCard: true, music: { fileId: music, volumeDb: -18, duckingDb: 10 } });
    expect(ok.status).toBe(202);
    const story = await t.api.get(`/stories/${ok.body.stories[0].id}`, { token });
    expect(story.body.autoMode).toMatchObject({ renderVideo: true, titleCard: true, music: { fileId: music, volumeDb: -18, duckingDb: 10 } });
    // Nothing rendered yet: no soundtrack or thumbnail to download.
    expect([story.body.soundtrackUrl, story.body.thumbnailUrl]).toEqual([null, null]);
    expect((await t.api.get(`/stories/${story.body.id}/soundtrack`, { token })).status).toBe(404);
    expect((await t.api.get(`/stories/${story.body.id}/thumbnail.jpg`, { token })).status).toBe(404);
  });
});

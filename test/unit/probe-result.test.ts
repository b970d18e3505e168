import { describe, expect, it } from 'vitest';
import { NotAVideoError, parseRate, videoProbeFrom } from '../../functions/ingest/probe-result.ts';
import { videoIdFromKey } from '../../functions/catalog/video-lifecycle.ts';

describe('ffprobe output', () => {
  it('parses rational frame rates', () => {
    expect(parseRate('30000/1001')).toBeCloseTo(29.97, 2);
    expect(parseRate('25/1')).toBe(25);
    expect(parseRate('0/0')).toBeNaN();
    expect(parseRate(undefined)).toBeNaN();
  });

  it('takes the first real video stream', () => {
    const probe = videoProbeFrom({
      format: { duration: '120.000000' },
      streams: [
        { codec_type: 'audio', codec_name: 'aac' },
        { codec_type: 'video', codec_name: 'mjpeg', width: 10, height: 10, avg_frame_rate: '0/0', disposition: { attached_pic: 1 } },
        { codec_type: 'video', codec_name: 'h264', width: 1280, height: 720, avg_frame_rate: '30000/1001', r_frame_rate: '30000/1001' },
      ],
    });
    expect(probe).toEqual({
      durationSeconds: 120, frameRate: 29.97, exactFrameRate: '30000/1001', width: 1280, height: 720, codec: 'h264',
      streamDurationSeconds: 120, streamStartSeconds: 0, fileStartSeconds: 0,
    });
  });

  it('falls back to r_frame_rate and the stream duration', () => {
    const probe = videoProbeFrom({
      format: {},
      streams: [{ codec_type: 'video', codec_name: 'vp9', width: 640, height: 360, avg_frame_rate: '0/0', r_frame_rate: '25/1', duration: '3.2' }],
    });
    expect(probe).toMatchObject({ frameRate: 25, exactFrameRate: '25/1', durationSeconds: 3.2, streamDurationSeconds: 3.2 });
  });

  it('keeps the stream and file start times that frame extraction plans with', () => {
    const probe = videoProbeFrom({
      format: { duration: '10.5', start_time: '0.5' },
      streams: [{ codec_type: 'video', width: 2, height: 2, avg_frame_rate: '25/1', duration: '10', start_time: '1.0' }],
    });
    expect(probe).toMatchObject({ durationSeconds: 10.5, streamDurationSeconds: 10, streamStartSeconds: 1, fileStartSeconds: 0.5 });
  });

  it('refuses files without a usable video stream', () => {
    expect(() => videoProbeFrom({ streams: [{ codec_type: 'audio' }] })).toThrow(NotAVideoError);
    expect(() => videoProbeFrom({ format: { duration: '1' }, streams: [{ codec_type: 'video', width: 1, height: 1 }] })).toThrow(/no frame rate/);
    expect(() => videoProbeFrom({ streams: [{ codec_type: 'video', width: 1, height: 1, avg_frame_rate: '25/1' }] })).toThrow(/no duration/);
  });
});

describe('upload keys', () => {
  it('accepts only videos/{uuid}/source', () => {
    expect(videoIdFromKey('videos/3f0c6a9e-6f0e-4c1e-9a4b-2d9c7f1e5a10/source')).toBe('3f0c6a9e-6f0e-4c1e-9a4b-2d9c7f1e5a10');
    expect(videoIdFromKey('videos/3f0c6a9e-6f0e-4c1e-9a4b-2d9c7f1e5a10/other')).toBeUndefined();
    expect(videoIdFromKey('videos/x/source')).toBeUndefined();
  });
});

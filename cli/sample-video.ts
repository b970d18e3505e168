import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';

const ffmpeg = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
const run = promisify(execFile);

/** An H.264 test pattern; `noisy` makes it large (lossless noise) to exercise multipart uploads. */
export async function makeTestVideo(file: string, o: { seconds: number; width: number; height: number; fps: number; noisy?: boolean }): Promise<void> {
  await run(ffmpeg, [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${o.width}x${o.height}:rate=${o.fps}`,
    '-t', String(o.seconds),
    ...(o.noisy ? ['-vf', 'noise=alls=60:allf=t', '-qp', '0'] : []),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p',
    file,
  ]);
}

// Deterministic test slides: a seeded pattern of smooth gradients, edges and grain (so JPEG has real work and tiles
// differ), mirrored out to any size by libvips without holding the whole image in memory.
import sharp from 'sharp';

const PATTERN = 1024;

function pattern(seed: number): Buffer {
  const pixels = Buffer.alloc(PATTERN * PATTERN * 3);
  let state = seed >>> 0 || 1;
  const grain = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) % 41) - 20;
  };
  for (let y = 0; y < PATTERN; y += 1) {
    for (let x = 0; x < PATTERN; x += 1) {
      const at = (y * PATTERN + x) * 3;
      const cell = ((x >> 6) + (y >> 6)) % 2 === 0 ? 40 : -40;
      pixels[at] = clamp(128 + 90 * Math.sin(x / 37) * Math.cos(y / 53) + grain());
      pixels[at + 1] = clamp(((x * y) >> 9) % 256 + cell);
      pixels[at + 2] = clamp(200 - Math.hypot(x - 512, y - 512) / 4 + grain());
    }
  }
  return pixels;
}

const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));

/** Writes a width × height JPEG (quality 90) or PNG, the same bytes for the same arguments. */
export async function writeTestSlide(path: string, width: number, height: number, format: 'jpeg' | 'png' = 'jpeg', seed = 7): Promise<void> {
  let image = sharp(pattern(seed), { raw: { width: PATTERN, height: PATTERN, channels: 3 } });
  if (width >= PATTERN && height >= PATTERN) image = image.extend({ right: width - PATTERN, bottom: height - PATTERN, extendWith: 'mirror' });
  else if (width <= PATTERN && height <= PATTERN) image = image.extract({ left: 0, top: 0, width, height });
  else throw new Error(`a test slide is either at least ${PATTERN} px or at most ${PATTERN} px on both sides`);
  await (format === 'jpeg' ? image.jpeg({ quality: 90 }) : image.png()).toFile(path);
}

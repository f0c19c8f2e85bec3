import sharp from 'sharp';

export interface PreparedPage {
  png: Buffer;
  width: number;
  height: number;
  /** Prepared pixels per original pixel: boxes are divided by it to point into the original. */
  scale: number;
  /** A median filter was applied (the page was speckled). */
  denoised: boolean;
}

export interface PrepareOptions {
  maxDimension: number;
  maxPixels: number;
  /** Page of a multi-page TIFF (0-based). */
  page?: number;
}

/** The image could not be decoded: a verdict on the file, not a passing failure. */
export class UnreadableImageError extends Error {
  override name = 'UnreadableImageError';
}

/** Pages of an image file from its header (multi-page TIFF), without decoding pixels. */
export async function imagePageCount(bytes: Buffer): Promise<number> {
  try {
    return (await sharp(bytes, { limitInputPixels: false }).metadata()).pages ?? 1;
  } catch (err) {
    throw new UnreadableImageError((err as Error).message);
  }
}

/**
 * Width and height of each page (0-based `pages` of a multi-page TIFF) from its header: sharp reads
 * the page's directory without decoding it, so a page claiming 200000 × 200000 costs microseconds.
 */
export async function imagePageSizes(
  bytes: Buffer,
  pages: number,
): Promise<{ width: number; height: number }[]> {
  const sizes: { width: number; height: number }[] = [];
  for (let page = 0; page < pages; page++) {
    try {
      const meta = await sharp(bytes, { limitInputPixels: false, page }).metadata();
      sizes.push({ width: meta.width ?? 0, height: meta.height ?? 0 });
    } catch (err) {
      throw new UnreadableImageError(`page ${page + 1}: ${(err as Error).message}`);
    }
  }
  return sizes;
}

/** Share of pixels unlike all 8 neighbours (dark among light or light among dark): speckle noise. */
export function speckleShare(gray: Buffer, width: number, height: number): number {
  let isolated = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const dark = (gray[i] ?? 0) < 128;
      let alike = false;
      for (let dy = -1; dy <= 1 && !alike; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          if ((dx !== 0 || dy !== 0) && (gray[i + dy * width + dx] ?? 0) < 128 === dark) {
            alike = true;
            break;
          }
        }
      }
      if (!alike) isolated++;
    }
  }
  return isolated / Math.max(1, width * height);
}

/** Clean scans have next to no isolated pixels; salt-and-pepper noise has thousands. */
const NOISY_SHARE = 0.001;

/**
 * What tesseract reads best, cheaply: grayscale on white, at most `maxDimension` px on the long side,
 * contrast stretched, and a 3×3 median only when the page is speckled (on clean thin strokes a median
 * costs more than it gains). No deskew: sharp has no cheap angle estimate, and tesseract's layout
 * analysis copes with the few degrees of a hand-fed scan (the 2° fixture reads correctly).
 */
export async function preparePage(bytes: Buffer, options: PrepareOptions): Promise<PreparedPage> {
  try {
    const source = sharp(bytes, {
      failOn: 'truncated',
      limitInputPixels: options.maxPixels,
      ...(options.page !== undefined ? { page: options.page } : {}),
    });
    const { width: originalWidth = 0 } = await source.metadata();
    const { data: gray, info } = await source
      .flatten({ background: '#ffffff' })
      .greyscale()
      .resize({
        width: options.maxDimension,
        height: options.maxDimension,
        fit: 'inside',
        withoutEnlargement: true,
      })
      .toColourspace('b-w')
      .raw()
      .toBuffer({ resolveWithObject: true });
    const noisy = speckleShare(gray, info.width, info.height) > NOISY_SHARE;
    let page = sharp(gray, { raw: { width: info.width, height: info.height, channels: 1 } });
    if (noisy) page = page.median(3);
    const png = await page.normalise().png({ compressionLevel: 1 }).toBuffer();
    return {
      png,
      width: info.width,
      height: info.height,
      scale: originalWidth > 0 ? info.width / originalWidth : 1,
      denoised: noisy,
    };
  } catch (err) {
    throw new UnreadableImageError((err as Error).message);
  }
}

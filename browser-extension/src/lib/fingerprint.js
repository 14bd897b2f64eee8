/**
 * The service's image fingerprint, `org.trustseal.dct-regions.v1`, computed here from the
 * decoded pixels, so that a re-encoded or resized copy of a signed photo is found without
 * sending the picture (signing/fingerprints.py has the algorithm; this is its
 * full-frame hash, what a copy is looked up by).
 *
 * Luminance as Pillow's "L" conversion computes it (ITU-R 601, integer rounding), the
 * whole frame resized to 64 x 64 by exact area averaging (every cell the mean of the
 * fractional source area it covers), rows and columns 1..16 of its orthonormal 2-D
 * DCT-II, each bit set when its coefficient exceeds the median by more than 2 % of the
 * RMS deviation. The service first reduces the picture to a longer side of 512 by area
 * averaging; averaging straight to 64 x 64 differs from that only by rounding, a few bits
 * at most (the end-to-end test measures it on real photographs).
 */

export const ALG = 'org.trustseal.dct-regions.v1';
export const HASH_BYTES = 32;
const SIDE = 64;
const KEPT = 16;
const MARGIN = 0.02;
// Pictures larger than this (longer side) are reduced by the browser's high-quality
// resampler before the exact averaging, to bound the memory of the summed-area table.
export const MAX_WORK_SIDE = 1536;

/** Luminance (0..255 integers, as Float64Array) of RGBA pixels composited on white. */
export function luminance(rgba, width, height) {
  const out = new Float64Array(width * height);
  for (let i = 0, p = 0; i < out.length; i += 1, p += 4) {
    let r = rgba[p];
    let g = rgba[p + 1];
    let b = rgba[p + 2];
    const a = rgba[p + 3];
    if (a !== 255) {
      // alpha over white, as Pillow's alpha_composite does (rounded)
      r = Math.floor((r * a + 255 * (255 - a) + 127) / 255);
      g = Math.floor((g * a + 255 * (255 - a) + 127) / 255);
      b = Math.floor((b * a + 255 * (255 - a) + 127) / 255);
    }
    out[i] = (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16;
  }
  return out;
}

/** The 64 x 64 area means of a width x height plane (row-major Float64Array). */
export function areaMeans(plane, width, height) {
  // summed-area table, (height + 1) x (width + 1)
  const stride = width + 1;
  const table = new Float64Array((height + 1) * stride);
  for (let y = 0; y < height; y += 1) {
    let run = 0;
    for (let x = 0; x < width; x += 1) {
      run += plane[y * width + x];
      table[(y + 1) * stride + x + 1] = table[y * stride + x + 1] + run;
    }
  }
  // the table at fractional positions: bilinear within a pixel, so exact
  const rows = interpolateRows(table, stride, height);
  const grid = new Float64Array((SIDE + 1) * (SIDE + 1));
  for (let j = 0; j <= SIDE; j += 1) {
    const position = (width * j) / SIDE;
    const base = Math.min(Math.floor(position), width - 1);
    const fraction = position - base;
    for (let i = 0; i <= SIDE; i += 1) {
      const low = rows[i * stride + base];
      const high = rows[i * stride + base + 1];
      grid[i * (SIDE + 1) + j] = low + (high - low) * fraction;
    }
  }
  const means = new Float64Array(SIDE * SIDE);
  const scale = (SIDE * SIDE) / (width * height);
  for (let i = 0; i < SIDE; i += 1) {
    for (let j = 0; j < SIDE; j += 1) {
      const g = (r, c) => grid[r * (SIDE + 1) + c];
      means[i * SIDE + j] = (g(i + 1, j + 1) - g(i, j + 1) - g(i + 1, j) + g(i, j)) * scale;
    }
  }
  return means;
}

function interpolateRows(table, stride, height) {
  const rows = new Float64Array((SIDE + 1) * stride);
  for (let i = 0; i <= SIDE; i += 1) {
    const position = (height * i) / SIDE;
    const base = Math.min(Math.floor(position), height - 1);
    const fraction = position - base;
    for (let x = 0; x < stride; x += 1) {
      const low = table[base * stride + x];
      const high = table[(base + 1) * stride + x];
      rows[i * stride + x] = low + (high - low) * fraction;
    }
  }
  return rows;
}

let dctRows = null;
function dct() {
  if (dctRows === null) {
    dctRows = new Float64Array(KEPT * SIDE);
    const norm = Math.sqrt(2 / SIDE);
    for (let k = 1; k <= KEPT; k += 1) {
      for (let n = 0; n < SIDE; n += 1) {
        dctRows[(k - 1) * SIDE + n] = norm * Math.cos((Math.PI * (2 * n + 1) * k) / (2 * SIDE));
      }
    }
  }
  return dctRows;
}

/** The 32-byte hash of 64 x 64 area means. */
export function hashOfMeans(means) {
  const m = dct();
  // M @ X (16 x 64), then (M @ X) @ M.T (16 x 16)
  const left = new Float64Array(KEPT * SIDE);
  for (let k = 0; k < KEPT; k += 1) {
    for (let c = 0; c < SIDE; c += 1) {
      let sum = 0;
      for (let n = 0; n < SIDE; n += 1) sum += m[k * SIDE + n] * means[n * SIDE + c];
      left[k * SIDE + c] = sum;
    }
  }
  const coefficients = new Float64Array(KEPT * KEPT);
  for (let k = 0; k < KEPT; k += 1) {
    for (let l = 0; l < KEPT; l += 1) {
      let sum = 0;
      for (let c = 0; c < SIDE; c += 1) sum += left[k * SIDE + c] * m[l * SIDE + c];
      coefficients[k * KEPT + l] = sum;
    }
  }
  const sorted = Float64Array.from(coefficients).sort();
  const half = sorted.length / 2;
  const median = (sorted[half - 1] + sorted[half]) / 2;
  let squares = 0;
  for (const c of coefficients) squares += (c - median) ** 2;
  const threshold = MARGIN * Math.sqrt(squares / coefficients.length);
  const out = new Uint8Array(HASH_BYTES);
  coefficients.forEach((c, i) => {
    if (c - median > threshold) out[i >> 3] |= 0x80 >> (i & 7);
  });
  return out;
}

/** The full-frame hash of RGBA pixels. */
export function hashOfPixels(rgba, width, height) {
  if (!(width > 0 && height > 0) || rgba.length !== width * height * 4) {
    throw new RangeError('pixels do not match the size given');
  }
  return hashOfMeans(areaMeans(luminance(rgba, width, height), width, height));
}

/**
 * The full-frame hash of encoded image bytes, decoded by the browser
 * (`createImageBitmap`, EXIF orientation applied, no colour conversion, as Pillow
 * decodes) and drawn on an `OffscreenCanvas`. Works in pages and service workers.
 */
export async function hashOfImage(bytes, type = '') {
  const blob = new Blob([bytes], type ? { type } : {});
  const options = { imageOrientation: 'from-image', colorSpaceConversion: 'none', premultiplyAlpha: 'none' };
  let bitmap = await createImageBitmap(blob, options);
  const longer = Math.max(bitmap.width, bitmap.height);
  if (longer > MAX_WORK_SIDE) {
    const scale = MAX_WORK_SIDE / longer;
    const resizeWidth = Math.max(1, Math.round(bitmap.width * scale));
    const resizeHeight = Math.max(1, Math.round(bitmap.height * scale));
    bitmap.close();
    bitmap = await createImageBitmap(blob, { ...options, resizeWidth, resizeHeight, resizeQuality: 'high' });
  }
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const { data } = context.getImageData(0, 0, width, height);
  return hashOfPixels(data, width, height);
}

/** Hamming distance of two equally long byte arrays. */
export function hamming(a, b) {
  if (a.length !== b.length) throw new RangeError('values of different lengths');
  let bits = 0;
  for (let i = 0; i < a.length; i += 1) {
    let x = a[i] ^ b[i];
    while (x) {
      x &= x - 1;
      bits += 1;
    }
  }
  return bits;
}

/**
 * Fetching an image's bytes from the service worker, where the page's CORS rules do not
 * apply (the extension holds host permissions). The HTTP cache is preferred, so an image
 * the page already loaded is usually not downloaded again.
 */

import { ServiceError } from './service-client.js';

export const MAX_IMAGE_BYTES = 50 * 1024 * 1024; // the service's default upload limit

export async function fetchImageBytes(url, fetchImpl = globalThis.fetch) {
  let response;
  try {
    response = await fetchImpl(url, { cache: 'force-cache', credentials: 'include', referrerPolicy: 'no-referrer' });
  } catch (error) {
    throw new ServiceError('image.fetch.failed', `the image cannot be fetched (${error.message})`);
  }
  if (!response.ok) {
    throw new ServiceError('image.fetch.failed', `the image cannot be fetched (HTTP ${response.status})`);
  }
  const declared = Number(response.headers.get('content-length'));
  if (declared > MAX_IMAGE_BYTES) {
    throw new ServiceError('image.too_large', 'the image is larger than the service accepts');
  }
  const bytes = await response.arrayBuffer();
  if (bytes.byteLength === 0) throw new ServiceError('image.empty', 'the image is empty');
  if (bytes.byteLength > MAX_IMAGE_BYTES) {
    throw new ServiceError('image.too_large', 'the image is larger than the service accepts');
  }
  const type = (response.headers.get('content-type') ?? '').split(';')[0].trim() || 'application/octet-stream';
  return { bytes, type };
}

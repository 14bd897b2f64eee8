/**
 * The TrustSeal REST service, as the extension uses it. Only the configured service URL
 * is contacted; the fetch function is injected (tests pass their own).
 */

export class ServiceError extends Error {
  constructor(code, message, status = null) {
    super(message);
    this.name = 'ServiceError';
    this.code = code;
    this.status = status;
  }
}

const TIMEOUT_MS = 20_000;

async function problemDetail(response) {
  try {
    const body = await response.json();
    if (body && typeof body.detail === 'string') return body.detail;
    if (body && typeof body.title === 'string') return body.title;
  } catch {
    // not a problem document
  }
  return response.statusText || 'request failed';
}

export function createServiceClient({ baseUrl, apiKey = '', fetchImpl = globalThis.fetch }) {
  async function request(path, init = {}) {
    let response;
    try {
      response = await fetchImpl(`${baseUrl}${path}`, {
        credentials: 'omit',
        cache: 'no-store',
        referrerPolicy: 'no-referrer',
        signal: AbortSignal.timeout(TIMEOUT_MS),
        ...init,
      });
    } catch (error) {
      throw new ServiceError('service.unreachable', `the service at ${baseUrl} cannot be reached (${error.message})`);
    }
    if (!response.ok) {
      const detail = await problemDetail(response);
      throw new ServiceError(`service.http.${response.status}`, `the service answered ${response.status}: ${detail}`, response.status);
    }
    try {
      return await response.json();
    } catch {
      throw new ServiceError('service.answer.malformed', 'the service answered with something that is not JSON');
    }
  }

  function authHeaders() {
    return apiKey ? { Authorization: `Bearer ${apiKey}` } : {};
  }

  return {
    baseUrl,
    /** GET /v1/lookup/{prefix}: verdicts of every known item sharing the prefix. */
    lookup(prefix) {
      return request(`/v1/lookup/${encodeURIComponent(prefix)}`);
    },
    /** GET /v1/lookup?prefix=…: one answer per prefix, for many prefixes at once. */
    lookupMany(prefixes) {
      const query = prefixes.map((p) => `prefix=${encodeURIComponent(p)}`).join('&');
      return request(`/v1/lookup?${query}`);
    },
    /** GET /v1/lookup/near?bucket=…: stored soft bindings in coarse buckets, and their originals. */
    lookupNear(buckets) {
      const query = buckets.map((b) => `bucket=${encodeURIComponent(b)}`).join('&');
      return request(`/v1/lookup/near?${query}`);
    },
    /** GET /v1/keys: the public keys, receipts' among them. */
    keys() {
      return request('/v1/keys');
    },
    /** POST /v1/verify {"text"}: full analysis of a text (spam, campaign, records). */
    verifyText(text) {
      return request('/v1/verify', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...authHeaders() },
        body: JSON.stringify({ text }),
      });
    },
    /** POST /v1/verify multipart `file`: full analysis of media bytes (C2PA, records). */
    verifyBytes(bytes, type = 'application/octet-stream', name = 'content') {
      const form = new FormData();
      form.append('file', new Blob([bytes], { type }), name);
      return request('/v1/verify', { method: 'POST', headers: authHeaders(), body: form });
    },
  };
}

// Loopback servers for the end-to-end test: the test site, and a proxy in front of the
// service that records every request and can alter verdicts in transit.
import { generateKeyPairSync, sign as edSign } from 'node:crypto';
import http from 'node:http';
import { canonicalBytes } from '../../../src/lib/canonical.js';

/** A hostile server's own receipt key: it publishes it and signs verdicts with it. */
function rogueKey() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url');
  return { keyId: 'rogue0000000000', privateKey, entry: { key_id: 'rogue0000000000', alg: 'Ed25519', public_key: raw.toString('base64'), current: true } };
}

export function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

export function close(server) {
  return new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
}

export async function freePort() {
  const server = http.createServer();
  const port = await listen(server);
  await close(server);
  return port;
}

/** A static site: `routes` maps a path to {type, body}. */
export async function startSite(routes) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    requests.push(path);
    const route = routes[path];
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': route.type, 'cache-control': 'no-cache' });
    res.end(route.body);
  });
  const port = await listen(server);
  return { server, port, origin: `http://127.0.0.1:${port}`, requests };
}

/**
 * A proxy to `target` that records {method, path, status} and, while `tamper` holds a
 * digest, rewrites any verdict for that digest in look-up and verify answers (promotes it
 * to "trusted") while keeping its receipt: a man in the middle without the service key.
 */
export async function startTamperProxy(target) {
  // tamper: a digest whose verdict is promoted (its receipt no longer matches); rekey: a
  // digest whose verdict is re-signed with the proxy's own key, which it then adds to
  // /v1/keys as a hostile server would
  const state = { tamper: null, rekey: null, requests: [], altered: 0, rekeyed: 0 };
  const rogue = rogueKey();
  const alter = (doc) => {
    if (doc && doc.sha256 === state.tamper) {
      doc.verdict = 'trusted';
      doc.score = 0.95;
      state.altered += 1;
    }
    if (doc && doc.sha256 === state.rekey) {
      const { receipt, ...rest } = doc;
      const signature = edSign(null, Buffer.from(canonicalBytes(rest)), rogue.privateKey).toString('base64');
      doc.receipt = { ...receipt, key_id: rogue.keyId, signature };
      state.rekeyed += 1;
    }
  };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const headers = { ...req.headers };
      for (const name of ['host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'accept-encoding']) {
        delete headers[name];
      }
      try {
        const upstream = await fetch(`${target}${req.url}`, {
          method: req.method,
          headers,
          body: ['GET', 'HEAD'].includes(req.method) ? undefined : body,
        });
        let out = Buffer.from(await upstream.arrayBuffer());
        const type = upstream.headers.get('content-type') ?? '';
        if (state.rekey && upstream.ok && req.url === '/v1/keys') {
          const doc = JSON.parse(out.toString('utf8'));
          doc.receipts = [rogue.entry, ...doc.receipts];
          out = Buffer.from(JSON.stringify(doc));
        }
        if ((state.tamper || state.rekey) && upstream.ok && type.includes('json') && /^\/v1\/(lookup|verify)/.test(req.url)) {
          const doc = JSON.parse(out.toString('utf8'));
          if (Array.isArray(doc.results)) doc.results.forEach((r) => (r.items ?? []).forEach(alter));
          else if (Array.isArray(doc.items)) doc.items.forEach(alter);
          else alter(doc);
          out = Buffer.from(JSON.stringify(doc));
        }
        state.requests.push({ method: req.method, path: req.url, status: upstream.status, bytes: body.length });
        res.writeHead(upstream.status, { 'content-type': type || 'application/octet-stream' });
        res.end(out);
      } catch (error) {
        state.requests.push({ method: req.method, path: req.url, status: 502, bytes: body.length });
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(String(error));
      }
    });
  });
  const port = await listen(server);
  return { server, port, url: `http://127.0.0.1:${port}`, state };
}

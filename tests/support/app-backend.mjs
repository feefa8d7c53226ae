// A small app backend on 127.0.0.1 (node:http): POST /auth/login exchanges a
// wx.login code for an app token; /api/* needs `Authorization: Bearer`.
// Knobs let tests revoke tokens, fail logins and add latency; counters let
// them assert how often each path was hit. POST /api/upload takes a
// multipart upload and GET /api/files/<n> answers n bytes, both with the token.
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { serveFile, prefixOf } from './static-files.mjs';


// `files` maps URL prefixes to folders (for browser tests: the page, pkg/).
// GET /dev/code plays wx.login for pages that have no wx (web and node).
export async function startAppBackend({ accounts, expiresIn = 7200, latency = 0, log = null, files = {} } = {}) {
  const state = {
    tokens: new Map(),         // token -> { openid, expiresAt }
    expiresIn,
    latency,
    failNextLogins: 0,
    counts: { exchange: 0, api: 0, unauthorized: 0, upload: 0, download: 0 },
  };
  const send = (res, status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => { chunks.push(c); });
    req.on('end', () => setTimeout(() => handle(req, res, Buffer.concat(chunks)).catch((err) => send(res, 400, { error: String(err && err.message) })), state.latency));
  });

  const handle = async (req, res, bytes) => {
    const raw = bytes.toString();
    const url = new URL(req.url, 'http://x');
    const prefix = prefixOf(files, url.pathname);
    if (req.method === 'GET' && prefix) return serveFile(res, files, prefix, url.pathname);
    if (url.pathname === '/dev/code') return send(res, 200, { code: accounts.issueCode() });
    if (req.method === 'POST' && url.pathname === '/auth/login') {
      state.counts.exchange++;
      if (state.failNextLogins > 0) {
        state.failNextLogins--;
        log && log('exchange', 503);
        return send(res, 503, { error: 'login temporarily unavailable' });
      }
      let body;
      try { body = JSON.parse(raw); } catch { return send(res, 400, { error: 'body is not JSON' }); }
      const session = accounts.redeem(body && body.code);
      if (session.errcode) {
        log && log('exchange', 400, session.errmsg);
        return send(res, 400, session);
      }
      const token = randomBytes(18).toString('base64url');
      state.tokens.set(token, { openid: session.openid, expiresAt: Date.now() + state.expiresIn * 1000, extra: body });
      log && log('exchange', 200);
      // The session_key stays here: it never goes to the client.
      return send(res, 200, { token, expiresIn: state.expiresIn });
    }
    if (url.pathname.startsWith('/api/')) {
      state.counts.api++;
      const auth = req.headers.authorization || '';
      const t = state.tokens.get(auth.replace(/^Bearer /, ''));
      if (!auth.startsWith('Bearer ') || !t || t.expiresAt <= Date.now()) {
        state.counts.unauthorized++;
        log && log('api', 401, url.pathname);
        return send(res, 401, { error: 'unauthorized' });
      }
      if (url.pathname === '/api/fail') return send(res, 500, { error: 'boom' });
      if (url.pathname === '/api/upload' && req.method === 'POST') {
        state.counts.upload++;
        const form = await new Response(bytes, { headers: { 'content-type': req.headers['content-type'] || '' } }).formData();
        const parts = {};
        for (const [name, value] of form) parts[name] = typeof value === 'string' ? value : { size: value.size, text: await value.text() };
        return send(res, 201, { ok: true, openid: t.openid, parts });
      }
      if (url.pathname.startsWith('/api/files/')) {
        state.counts.download++;
        const n = Number(url.pathname.slice('/api/files/'.length));
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        return res.end(Buffer.alloc(n, 'x'));
      }
      log && log('api', 200, url.pathname);
      return send(res, 200, { ok: true, path: url.pathname, openid: t.openid, query: Object.fromEntries(url.searchParams), body: raw ? JSON.parse(raw) : null });
    }
    send(res, 404, { error: 'not found' });
  };
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    state,
    revokeAll() { state.tokens.clear(); },
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }),
  };
}

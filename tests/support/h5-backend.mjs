// The H5 side of a WeChat app on 127.0.0.1 (node:http), for the JS-SDK and
// OAuth clients: the app backend's signature and OAuth-exchange endpoints,
// WeChat's authorize redirect, and static files (pkg/, the test pages).
// Knobs make it answer wrongly; counters and logs let tests assert calls.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { PKG } from './harness.mjs';
import { serveFile, prefixOf } from './static-files.mjs';

const wxsession = createRequire(import.meta.url)(join(PKG, 'node', 'index.cjs'));

export async function startH5Backend({ appId, files }) {
  const state = {
    ticket: 'ticket-' + randomBytes(6).toString('hex'),
    latency: 0,
    badSignatures: 0,      // the next N signatures are made with a wrong ticket
    failStatus: 0,         // answer the signature endpoint with this HTTP status
    expiresInMs: null,     // send expiresAt = now + this (else none)
    signatureRequests: [], // { url, force }
    exchanges: [],         // the JSON bodies POSTed to /auth/oauth
    codes: new Map(),      // OAuth code -> used?
  };
  const send = (res, status, body, headers = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const routes = {
    'GET /wechat/signature': (q) => {
      state.signatureRequests.push({ url: q.get('url'), force: q.get('force') });
      if (state.failStatus) return [state.failStatus, { error: 'signing is down' }];
      const ticket = state.badSignatures > 0 ? (state.badSignatures--, 'not-the-ticket') : state.ticket;
      const nonce = wxsession.nonceStr(16);
      const timestamp = Math.floor(Date.now() / 1000);
      const body = { appId, timestamp, nonceStr: nonce, signature: wxsession.signJsapi({ jsapiTicket: ticket, nonceStr: nonce, timestamp, url: q.get('url') }) };
      if (state.expiresInMs !== null) body.expiresAt = Date.now() + state.expiresInMs;
      return [200, body];
    },
    // WeChat's authorize page, after the user agreed: back to redirect_uri with a code.
    'GET /connect/oauth2/authorize': (q) => {
      const code = 'code-' + randomBytes(8).toString('hex');
      state.codes.set(code, false);
      const back = q.get('redirect_uri');
      return [302, {}, { location: back + (back.includes('?') ? '&' : '?') + 'code=' + code + '&state=' + q.get('state') }];
    },
    // The app backend: redeems the code (once, as WeChat allows) and answers its own session.
    'POST /auth/oauth': (q, raw) => {
      const body = JSON.parse(raw);
      state.exchanges.push(body);
      if (state.codes.get(body.code) !== false) return [400, { errcode: 40163, errmsg: 'code been used or unknown' }];
      state.codes.set(body.code, true);
      return [200, { token: 'app-' + body.code, openid: 'o-h5-user' }];
    },
  };

  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => { raw += c; });
    req.on('end', () => setTimeout(() => {
      const url = new URL(req.url, 'http://x');
      const prefix = prefixOf(files, url.pathname);
      if (req.method === 'GET' && prefix) return serveFile(res, files, prefix, url.pathname);
      const route = routes[req.method + ' ' + url.pathname];
      if (!route) return send(res, 404, { error: 'not found' });
      const [status, body, headers] = route(url.searchParams, raw);
      send(res, status, body, headers);
    }, req.url.startsWith('/wechat/') || req.url.startsWith('/auth/') ? state.latency : 0));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    state,
    reset() {
      Object.assign(state, { latency: 0, badSignatures: 0, failStatus: 0, expiresInMs: null, signatureRequests: [], exchanges: [] });
    },
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }),
  };
}

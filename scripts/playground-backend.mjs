// The playground's demo app backend, built on the package's node entry
// (pkg/node/index.cjs): a mini-program login, an OAuth exchange and a JS-SDK
// signature endpoint, each backed by the `Wechat` class talking to the fake
// WeChat API. Besides the app's own routes it has /dev/* control endpoints
// the page uses to make things go wrong (latency, expired or revoked tokens,
// a failing login) and to play WeChat's client side (the JS-SDK's signature
// check here; wx.login's code on a second origin, see handleWechatSide),
// plus counters of everything.
import { randomBytes } from 'node:crypto';

const TOKEN_TTL_S = 7200;
const PLAYGROUND_OPENID = 'o-playground-user';

const zeroCounts = () => ({
  logins: 0, loginsFailed: 0, tokensIssued: 0, oauthExchanges: 0,
  api: 0, apiOk: 0, unauthorized: 0, signatures: 0, verifyOk: 0, verifyFailed: 0,
});

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * -> { handle(req, res, url, raw), handleWechatSide(req, res, url), state }:
 * each handler returns true if it answered. `origin()` is the server's own
 * http://127.0.0.1:port: signatures and OAuth redirects are only made for the
 * playground's own pages. `wechatSidePort()` is the port of the second
 * server that answers handleWechatSide.
 */
export function createBackend({ wechat, fake, origin, wechatSidePort = () => null, log = () => {} }) {
  const state = {
    latency: 0,
    failNextLogin: false,
    tokens: new Map(), // app token -> { openid, via, expiresAt }; never WeChat's session_key
    counts: zeroCounts(),
  };

  const ownPage = (href) => {
    try {
      const u = new URL(href);
      return u.origin === new URL(origin()).origin || (u.hostname === 'localhost' && u.port === new URL(origin()).port);
    } catch {
      return false;
    }
  };

  const issueToken = (openid, via) => {
    const now = Date.now();
    if (state.tokens.size > 10_000) for (const [t, v] of state.tokens) if (v.expiresAt <= now) state.tokens.delete(t);
    const token = randomBytes(24).toString('base64url');
    state.tokens.set(token, { openid, via, expiresAt: now + TOKEN_TTL_S * 1000 });
    state.counts.tokensIssued++;
    return token;
  };

  const bearer = (req) => {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization || '');
    return m ? m[1] : null;
  };

  const wechatError = (err) => ({ error: err.code || 'ERROR', errcode: err.errcode, message: err.message });

  // The app's routes: slowed down by the latency knob, like a real network.
  const app = {
    'POST /auth/login': async (q, body) => {
      state.counts.logins++;
      if (state.failNextLogin) {
        state.failNextLogin = false;
        state.counts.loginsFailed++;
        log('login refused (fail-next-login was armed): 503');
        return [503, { error: 'login temporarily unavailable (the playground was told to fail it)' }];
      }
      if (!body || typeof body.code !== 'string') return [400, { error: 'POST {code}' }];
      try {
        // { openid, sessionKey }: the session_key stays in this function.
        const { openid } = await wechat.miniProgram.code2Session(body.code);
        log('login: code2Session ok, app token issued');
        return [200, { token: issueToken(openid, 'miniprogram'), expiresIn: TOKEN_TTL_S }];
      } catch (err) {
        state.counts.loginsFailed++;
        log('login failed: ' + err.message);
        return [400, wechatError(err)];
      }
    },
    'POST /auth/oauth': async (q, body) => {
      state.counts.oauthExchanges++;
      if (!body || typeof body.code !== 'string' || typeof body.state !== 'string') return [400, { error: 'POST {code, state}' }];
      try {
        // WeChat's OAuth access_token stays in the Wechat store; the page gets the app's own token.
        const info = await wechat.oauth.getAccessToken(body.code);
        log('oauth: code exchanged, app token issued');
        return [200, { token: issueToken(info.openid, 'oauth'), expiresIn: TOKEN_TTL_S, openid: info.openid }];
      } catch (err) {
        log('oauth exchange failed: ' + err.message);
        return [400, wechatError(err)];
      }
    },
    'GET /wechat/signature': async (q) => {
      state.counts.signatures++;
      const url = q.get('url');
      if (!url || !ownPage(url)) return [400, { error: 'url must be one of this playground\'s pages' }];
      try {
        const sig = await wechat.jssdk.getSignature(url, { force: q.get('force') === '1' });
        const stored = await wechat.store.getSignature(sig.url).catch(() => undefined);
        const expiresAt = stored && stored.expiresAt > 0 ? stored.expiresAt : Date.now() + 7000e3;
        return [200, { ...sig, expiresAt }];
      } catch (err) {
        return [502, wechatError(err)];
      }
    },
  };

  const api = (req, url) => {
    state.counts.api++;
    const token = bearer(req);
    const t = token && state.tokens.get(token);
    if (!t || t.expiresAt <= Date.now()) {
      state.counts.unauthorized++;
      return [401, { error: t ? 'token expired' : 'unauthorized' }];
    }
    state.counts.apiOk++;
    return [200, { ok: true, path: url.pathname, query: Object.fromEntries(url.searchParams), openid: t.openid }];
  };

  // Control and simulation endpoints: answered at once.
  const dev = {
    'GET /dev/state': () => [200, {
      appId: wechat.appId,
      wechatSidePort: wechatSidePort(),
      latency: state.latency,
      failNextLogin: state.failNextLogin,
      liveTokens: [...state.tokens.values()].filter((t) => t.expiresAt > Date.now()).length,
      counts: state.counts,
      wechat: { ...fake.counts },
    }],
    'POST /dev/reset': () => {
      state.counts = zeroCounts();
      fake.resetCounts();
      return [200, { ok: true }];
    },
    'POST /dev/latency': (q, body) => {
      const ms = body && Number(body.ms);
      if (!Number.isInteger(ms) || ms < 0 || ms > 10_000) return [400, { error: 'POST {ms} (0..10000)' }];
      state.latency = ms;
      fake.setLatency(ms);
      return [200, { latency: ms }];
    },
    // The caller's own token (its Bearer) now reads as expired.
    'POST /dev/expire': (q, body, req) => {
      const t = state.tokens.get(bearer(req));
      if (!t) return [404, { error: 'send the token to expire as Bearer' }];
      t.expiresAt = Date.now();
      log('token expired on request');
      return [200, { expired: 1 }];
    },
    'POST /dev/revoke': () => {
      const n = state.tokens.size;
      state.tokens.clear();
      log(`revoked ${n} app token(s)`);
      return [200, { revoked: n }];
    },
    // {armed: false} disarms it; anything else arms it.
    'POST /dev/fail-next-login': (q, body) => {
      state.failNextLogin = !(body && body.armed === false);
      return [200, { failNextLogin: state.failNextLogin }];
    },
    // The simulated JS-SDK's wx.config: WeChat's check of the signature.
    'POST /dev/jssdk/verify': (q, body) => {
      const b = body || {};
      let errMsg = null;
      if (b.appId !== wechat.appId) errMsg = 'config:invalid appid';
      else if (!fake.verifyJsapiSignature({ url: b.url, nonceStr: b.nonceStr, timestamp: b.timestamp, signature: b.signature })) errMsg = 'config:invalid signature';
      state.counts[errMsg ? 'verifyFailed' : 'verifyOk']++;
      return [200, errMsg ? { ok: false, errMsg } : { ok: true }];
    },
  };

  // WeChat's authorize page (open.weixin.qq.com), after the user opened it.
  const authorize = (q, res) => {
    const back = q.get('redirect_uri');
    if (!back || !ownPage(back) || !q.get('state')) {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
      return res.end('redirect_uri must be one of this playground\'s pages, and state is required');
    }
    const code = fake.issueCode({ kind: 'oauth', openid: PLAYGROUND_OPENID, scope: q.get('scope') || 'snsapi_base' });
    const allow = back + (back.includes('?') ? '&' : '?') + 'code=' + encodeURIComponent(code) + '&state=' + encodeURIComponent(q.get('state'));
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>WeChat authorization (simulated)</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/style.css">
<main class="authorize"><h1>WeChat <small>simulated authorize page</small></h1>
<p><b>${escapeHtml(q.get('appid'))}</b> asks for your identity (<code>${escapeHtml(q.get('scope'))}</code>).</p>
<p>Allow sends you back to <code class="url">${escapeHtml(back)}</code> with a one-time <code>code</code> and the <code>state</code> the page sent.</p>
<p class="actions"><a id="allow" class="button" href="${escapeHtml(allow)}">Allow</a><a id="cancel" class="button secondary" href="${escapeHtml(back)}">Cancel</a></p></main>`);
  };

  const send = (res, status, body, headers = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
    res.end(JSON.stringify(body));
  };

  // WeChat's client side, on its own origin: what the simulated wx.login
  // gets from WeChat (a one-time code), and the genuine code a forged OAuth
  // link carries. In a real app wx.login talks to WeChat's servers, not to
  // the app backend, so it does not share the browser's connection pool for
  // the backend (HTTP/1.1: six sockets per host and port). Served from the
  // app's origin it would queue behind a burst's requests and a 5 ms call
  // would read as a 1.5 s wx.login. Not slowed by the latency knob, which
  // models the app backend and api.weixin.qq.com.
  function handleWechatSide(req, res, url) {
    const from = req.headers.origin;
    const cors = from && ownPage(from + '/') ? { 'access-control-allow-origin': from, vary: 'origin' } : {};
    if (req.method !== 'GET' || url.pathname !== '/dev/code') return false;
    const kind = url.searchParams.get('kind') || 'miniprogram';
    if (kind !== 'miniprogram' && kind !== 'oauth') return send(res, 400, { error: 'kind is miniprogram or oauth' }, cors), true;
    return send(res, 200, { code: fake.issueCode({ kind, openid: PLAYGROUND_OPENID }) }, cors), true;
  }

  async function handle(req, res, url, raw) {
    const key = req.method + ' ' + url.pathname;
    let body = null;
    if (raw) {
      try { body = JSON.parse(raw); } catch { return send(res, 400, { error: 'body is not JSON' }), true; }
    }
    if (dev[key]) return send(res, ...dev[key](url.searchParams, body, req)), true;
    if (key === 'GET /connect/oauth2/authorize') return authorize(url.searchParams, res), true;
    const isApi = url.pathname.startsWith('/api/');
    if (!app[key] && !isApi) return false;
    // unref: a pending delay never keeps a stopping process alive.
    if (state.latency > 0) await new Promise((resolve) => setTimeout(resolve, state.latency).unref());
    send(res, ...(isApi ? api(req, url) : await app[key](url.searchParams, body)));
    return true;
  }

  return { handle, handleWechatSide, state };
}

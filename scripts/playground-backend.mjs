// The playground's demo app backend, built on the package's node entry
// (pkg/node/index.cjs): a mini-program login and an API guarded by
// `wechat.sessions` (its handlers decide everything about sessions; nothing
// here keeps a token), an OAuth exchange and a JS-SDK signature endpoint
// backed by the same `Wechat` talking to the fake WeChat API. Besides the
// app's own routes it has /dev/* control endpoints the page uses to make
// things go wrong (latency, a revoked token, a failing login), to read and
// revoke sessions, and to play WeChat's client side (the JS-SDK's
// signature check here; wx.login's code and encrypted user data on a
// second origin, see handleWechatSide), plus counters of everything.

const PLAYGROUND_OPENID = 'o-playground-user';

const zeroCounts = () => ({
  logins: 0, loginsFailed: 0, tokensIssued: 0, oauthExchanges: 0,
  api: 0, apiOk: 0, unauthorized: 0, signatures: 0, verifyOk: 0, verifyFailed: 0, decryptOk: 0, decryptFailed: 0,
});

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const bearer = (req) => (/^Bearer (\S+)$/.exec(req.headers.authorization || '') || [])[1];

/**
 * -> { handle(req, res, url, raw), handleWechatSide(req, res, url), state }:
 * each handler returns true if it answered. `origin()` is the server's own
 * http://127.0.0.1:port: signatures and OAuth redirects are only made for the
 * playground's own pages. `wechatSidePort()` is the port of the second
 * server that answers handleWechatSide.
 */
export function createBackend({ wechat, fake, origin, wechatSidePort = () => null, log = () => {} }) {
  const sessions = wechat.sessions;
  const loginHandler = sessions.loginHandler();
  const guard = sessions.middleware();
  const state = {
    latency: 0,
    failNextLogin: false,
    // The mini-program users this playground has logged in: whose sessions
    // the server panel lists (the sessions themselves are the store's).
    users: [PLAYGROUND_OPENID],
    others: 0,
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

  const wechatError = (err) => ({ code: err.code || 'ERROR', errcode: err.errcode });
  const finished = (res) => new Promise((resolve) => { res.once('finish', resolve); res.once('close', resolve); });
  const send = (res, status, body, headers = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
    res.end(JSON.stringify(body));
  };

  /** The users' live sessions, as sessions.list() reads them from the store. */
  const liveSessions = () => Promise.all(state.users.map(async (openid) => {
    const list = await sessions.list(openid);
    return { openid, live: list.length, sessions: list.map((s) => ({ createdAt: s.createdAt, expiresAt: s.expiresAt })) };
  }));

  // The app's routes (slowed down by the latency knob, like a real network).
  // Each writes its own answer to res.
  const app = {
    // The client's default exchange: sessions.loginHandler() does it all.
    'POST /auth/login': async (req, res, body) => {
      state.counts.logins++;
      if (state.failNextLogin) {
        state.failNextLogin = false;
        state.counts.loginsFailed++;
        log('login refused (fail-next-login was armed): 503');
        return send(res, 503, { code: 'UNAVAILABLE', error: 'login temporarily unavailable (the playground was told to fail it)' });
      }
      req.body = body || {}; // already read by the playground's server
      const done = finished(res);
      loginHandler(req, res);
      await done;
      if (res.statusCode === 200) state.counts.tokensIssued++;
      else state.counts.loginsFailed++;
      log(`login: POST /auth/login → ${res.statusCode}`);
    },
    // OAuth (an H5 page): WeChat's OAuth access_token stays in the Wechat
    // store; the page learns who signed in. (App sessions are the
    // mini-program's: they start from a wx.login code.)
    'POST /auth/oauth': async (req, res, body) => {
      state.counts.oauthExchanges++;
      if (!body || typeof body.code !== 'string' || typeof body.state !== 'string') return send(res, 400, { code: 'BAD_INPUT', error: 'POST {code, state}' });
      try {
        const info = await wechat.oauth.getAccessToken(body.code);
        log('oauth: code exchanged');
        send(res, 200, { openid: info.openid, scope: info.scope });
      } catch (err) {
        log('oauth exchange failed: ' + err.code);
        send(res, 400, wechatError(err));
      }
    },
    'GET /wechat/signature': async (req, res, body, q) => {
      state.counts.signatures++;
      const url = q.get('url');
      if (!url || !ownPage(url)) return send(res, 400, { code: 'BAD_INPUT', error: 'url must be one of this playground\'s pages' });
      try {
        const sig = await wechat.jssdk.getSignature(url, { force: q.get('force') === '1' });
        const stored = await wechat.store.getSignature(sig.url).catch(() => undefined);
        const expiresAt = stored && stored.expiresAt > 0 ? stored.expiresAt : Date.now() + 7000e3;
        send(res, 200, { ...sig, expiresAt });
      } catch (err) {
        send(res, 502, wechatError(err));
      }
    },
  };

  // /api/*: sessions.middleware() answers 401 itself; behind it, the app.
  const api = async (req, res, url, body) => {
    state.counts.api++;
    const done = finished(res);
    guard(req, res, async () => {
      if (url.pathname === '/api/decrypt' && req.method === 'POST') {
        try {
          const b = body || {};
          const { watermark, ...data } = await sessions.decrypt(bearer(req), b.encryptedData, b.iv);
          state.counts.decryptOk++;
          return send(res, 200, { data, watermark });
        } catch (err) {
          state.counts.decryptFailed++;
          return send(res, err.code === 'UNAUTHORIZED' ? 401 : 400, { code: err.code });
        }
      }
      send(res, 200, { ok: true, path: url.pathname, query: Object.fromEntries(url.searchParams), openid: req.wxsession.openid });
    });
    await done;
    if (res.statusCode === 401) state.counts.unauthorized++;
    else if (res.statusCode === 200) state.counts.apiOk++;
  };

  // Control and simulation endpoints: answered at once.
  const dev = {
    'GET /dev/state': async () => [200, {
      appId: wechat.appId,
      wechatSidePort: wechatSidePort(),
      latency: state.latency,
      failNextLogin: state.failNextLogin,
      liveTokens: (await liveSessions()).reduce((n, u) => n + u.live, 0),
      counts: state.counts,
      wechat: { ...fake.counts },
    }],
    // The server panel's read API: each user's live sessions (no tokens).
    'GET /dev/sessions': async () => [200, { users: await liveSessions() }],
    'POST /dev/reset': () => {
      state.counts = zeroCounts();
      fake.resetCounts();
      return [200, { ok: true }];
    },
    'POST /dev/latency': (body) => {
      const ms = body && Number(body.ms);
      if (!Number.isInteger(ms) || ms < 0 || ms > 10_000) return [400, { error: 'POST {ms} (0..10000)' }];
      state.latency = ms;
      fake.setLatency(ms);
      return [200, { latency: ms }];
    },
    // The caller's own session (its Bearer) ends now: sessions.revoke.
    'POST /dev/expire': async (body, req) => {
      const token = bearer(req);
      if (!token) return [404, { error: 'send the token to end as Bearer' }];
      try { await sessions.revoke(token); } catch (err) { return [404, { code: err.code }]; }
      log('session ended on request (sessions.revoke)');
      return [200, { expired: 1 }];
    },
    // Every session of every user the playground knows: sessions.revokeUser.
    'POST /dev/revoke': async () => {
      const counts = await Promise.all(state.users.map((openid) => sessions.revokeUser(openid)));
      const n = counts.reduce((a, b) => a + b, 0);
      log(`revoked ${n} session(s)`);
      return [200, { revoked: n }];
    },
    'POST /dev/sessions/revoke': async (body) => {
      const openid = body && body.openid;
      if (!state.users.includes(openid)) return [404, { error: 'POST {openid} of a user listed by GET /dev/sessions' }];
      const revoked = await sessions.revokeUser(openid);
      log(`revokeUser(${openid}): ${revoked} session(s)`);
      return [200, { openid, revoked }];
    },
    // Another user logs in on their own device: a code from the fake WeChat,
    // redeemed through the same sessions.login the login route uses.
    'POST /dev/sessions/other': async () => {
      const openid = `o-other-user-${++state.others}`;
      state.users.push(openid);
      await sessions.login(fake.issueCode({ kind: 'miniprogram', openid }));
      return [200, { openid }];
    },
    // {armed: false} disarms it; anything else arms it.
    'POST /dev/fail-next-login': (body) => {
      state.failNextLogin = !(body && body.armed === false);
      return [200, { failNextLogin: state.failNextLogin }];
    },
    // The simulated JS-SDK's wx.config: WeChat's check of the signature.
    'POST /dev/jssdk/verify': (body) => {
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

  // WeChat's client side, on its own origin: what the simulated wx.login
  // gets from WeChat (a one-time code), the genuine code a forged OAuth link
  // carries, and the encryptedData WeChat hands a mini-program (a
  // wx.getWeRunData stand-in). In a real app these come from WeChat, not
  // the app backend, so they do not share the browser's connection pool for
  // the backend (HTTP/1.1: six sockets per host and port). Served from the
  // app's origin, a wx.login would queue behind a burst's requests and a
  // 5 ms call would read as a 1.5 s wx.login. Not slowed by the latency
  // knob, which models the app backend and api.weixin.qq.com.
  function handleWechatSide(req, res, url) {
    const from = req.headers.origin;
    const cors = from && ownPage(from + '/') ? { 'access-control-allow-origin': from, vary: 'origin' } : {};
    if (req.method !== 'GET') return false;
    if (url.pathname === '/dev/encrypted') {
      const foreign = url.searchParams.get('foreign') === '1';
      try {
        const payload = { stepInfoList: [{ timestamp: Math.floor(Date.now() / 1000), step: 4321 }] };
        return send(res, 200, fake.encryptFor(PLAYGROUND_OPENID, payload, foreign ? { watermarkAppId: 'wx_some_other_app' } : {}), cors), true;
      } catch {
        return send(res, 409, { error: 'log in first: WeChat has no session_key for this user yet' }, cors), true;
      }
    }
    if (url.pathname !== '/dev/code') return false;
    const kind = url.searchParams.get('kind') || 'miniprogram';
    if (kind !== 'miniprogram' && kind !== 'oauth') return send(res, 400, { error: 'kind is miniprogram or oauth' }, cors), true;
    return send(res, 200, { code: fake.issueCode({ kind, openid: PLAYGROUND_OPENID }) }, cors), true;
  }

  async function handle(req, res, url, raw) {
    const key = req.method + ' ' + url.pathname;
    let body = null;
    if (raw) {
      try { body = JSON.parse(raw); } catch { return send(res, 400, { code: 'BAD_INPUT', error: 'body is not JSON' }), true; }
    }
    if (dev[key]) return send(res, ...(await dev[key](body, req))), true;
    if (key === 'GET /connect/oauth2/authorize') return authorize(url.searchParams, res), true;
    const isApi = url.pathname.startsWith('/api/');
    if (!app[key] && !isApi) return false;
    // unref: a pending delay never keeps a stopping process alive.
    if (state.latency > 0) await new Promise((resolve) => setTimeout(resolve, state.latency).unref());
    if (isApi) await api(req, res, url, body);
    else await app[key](req, res, body, url.searchParams);
    return true;
  }

  return { handle, handleWechatSide, state };
}

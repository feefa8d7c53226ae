// The sample backend of a mini-program, as an Express app: the login route
// the client's default exchange posts to, an API that needs a session, a
// phone number from a getPhoneNumber button and data WeChat encrypted for
// the user. Every session decision is wxsession's (`wechat.sessions`);
// this file only wires routes and turns errors into { code } replies.
const express = require('express');

// What a client may be told about an error: a status and a stable code
// (WeChat's errcode when it refused), never a message, a stack or a secret.
const STATUS = {
  UNAUTHORIZED: 401, BAD_INPUT: 400, DECRYPT_FAILED: 400, WECHAT_API: 502, EXCHANGE_FAILED: 502,
  HTTP_ERROR: 502, NETWORK: 502, TIMEOUT: 504, STORE_UNAVAILABLE: 503, STORE_CORRUPT: 503,
};

function errorReply(err) {
  if (err && err.type === 'entity.too.large') return [413, { code: 'BAD_INPUT' }];
  if (err && err.type === 'entity.parse.failed') return [400, { code: 'BAD_INPUT' }];
  const code = err && typeof err.code === 'string' && STATUS[err.code] ? err.code : 'INTERNAL';
  const body = { code };
  if (code === 'WECHAT_API' && typeof err.errcode === 'number') body.errcode = err.errcode;
  return [STATUS[code] || 500, body];
}

// The Bearer token the guard already accepted (decrypt needs the token itself).
const bearer = (req) => (/^\s*Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') || '') || [])[1];

// `async (req, res) => …` whose rejection reaches the error handler (Express 4 does not await).
const route = (fn) => (req, res, next) => Promise.resolve(fn(req, res)).catch(next);

/**
 * createApp({ wechat, log, dev }): `wechat` a wxsession Wechat; `log(line)`
 * gets one line per request (method, path, status, ms; never a body or a
 * token); `dev` an Express router mounted at /dev (the fake WeChat's
 * helpers when no real credentials are configured).
 */
function createApp({ wechat, log = () => {}, dev } = {}) {
  const sessions = wechat.sessions;
  const app = express();
  app.disable('x-powered-by');
  app.use((req, res, next) => {
    const t0 = Date.now();
    res.on('finish', () => log(`${req.method} ${req.originalUrl.split('?')[0]} → ${res.statusCode} (${Date.now() - t0} ms)`));
    next();
  });

  // POST { code } (from wx.login) → { token, expiresIn }: the mini-program's
  // loginUrl. The handler reads and caps the body itself (16 KiB).
  app.post('/auth/login', sessions.loginHandler());

  // Everything under /api needs a live session: req.wxsession is
  // { openid, unionid?, createdAt, expiresAt, data }. Otherwise 401 with
  // WWW-Authenticate, which makes the client log in again once.
  app.use('/api', sessions.middleware());

  // The sample mini-program's four panels (examples/miniprogram).
  app.get('/api/profile', (req, res) => res.json({ ok: true, openid: req.wxsession.openid, since: req.wxsession.createdAt }));
  app.get('/api/orders', (req, res) => res.json({ ok: true, page: Number(req.query.page) || 1, orders: [] }));
  app.get('/api/cart', (req, res) => res.json({ ok: true, items: [] }));
  app.get('/api/notices', (req, res) => res.json({ ok: true, notices: ['Welcome!'] }));

  // POST { code } from <button open-type="getPhoneNumber">: WeChat answers
  // the number for this app. Keep it with req.wxsession.openid in your database.
  app.post('/api/phone', express.json({ limit: '4kb' }), route(async (req, res) => {
    const info = await wechat.miniProgram.getPhoneNumber(req.body && req.body.code);
    res.json({ phoneNumber: info.phoneNumber, countryCode: info.countryCode });
  }));

  // POST { encryptedData, iv } that WeChat gave the mini-program for this
  // user (wx.getWeRunData, …): decrypted with the session_key the server
  // keeps, its watermark checked against this app. DECRYPT_FAILED is 400.
  app.post('/api/decrypt', express.json({ limit: '512kb' }), route(async (req, res) => {
    const { encryptedData, iv } = req.body || {};
    const { watermark, ...data } = await sessions.decrypt(bearer(req), encryptedData, iv);
    res.json({ data });
  }));

  if (dev) app.use('/dev', dev);

  app.use((req, res) => res.status(404).json({ code: 'NOT_FOUND' }));
  // Four parameters: that is how Express tells an error handler from a route.
  app.use((err, req, res, next) => {
    const [status, body] = errorReply(err);
    if (status === 500) log(`error: ${(err && err.code) || ''} ${(err && err.message) || err}`);
    if (status === 401) res.set('www-authenticate', 'Bearer error="invalid_token"');
    res.status(status).set('cache-control', 'no-store').json(body);
  });
  return app;
}

module.exports = { createApp };

// `wechat.sessions`: the server half of the mini-program login. The Rust
// core decides everything (one jscode2session per code, tokens stored only
// as hashes, expiry and renewal, revocation, decryption with the stored
// session_key); this file checks arguments, supplies the token's entropy
// and speaks HTTP for Express/Connect, bare node:http and Koa.
import { randomBytes } from 'node:crypto';
import { codedError } from '../shared/errors.js';
import { checkOptions, intIn } from '../shared/options.js';
import { infoText } from '../shared/info.js';
import { checked, keyText, text } from './args.js';

const unauthorized = (why) => codedError('UNAUTHORIZED', why);

// An openid names the user's records: the store's key checks apply (a lone
// surrogate would become U+FFFD at the boundary and name another user's).
const openidOf = (openid) => keyText('the openid', openid, 256);

// Tokens are 32 random bytes in base64url: exactly 43 characters. Anything
// else is refused here, before a large string is copied into the wasm.
function token43(token) {
  if (typeof token !== 'string' || token.length !== 43) throw unauthorized('the token is missing or malformed');
  return token;
}


/** The Bearer token of a request's Authorization header, or undefined. */
export function bearer(header) {
  if (typeof header !== 'string') return undefined;
  const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}

// An error as the HTTP status and JSON body a client may see: a code, and
// WeChat's errcode when it refused; never a message with internals or a stack.
const STATUS = {
  UNAUTHORIZED: 401, BAD_INPUT: 400, WECHAT_API: 502, EXCHANGE_FAILED: 502, HTTP_ERROR: 502, NETWORK: 502,
  TIMEOUT: 504, STORE_UNAVAILABLE: 503, STORE_CORRUPT: 503, RATE_LIMITED: 429, DECRYPT_FAILED: 400, BAD_CONFIG: 500,
};

function httpError(err) {
  // Only our own codes reach a client: a code from elsewhere (a database
  // driver under the data() hook, say) says something about the server.
  const ours = err && err.name === 'WxSessionError' && Object.prototype.hasOwnProperty.call(STATUS, err.code);
  const code = ours ? err.code : 'INTERNAL';
  const status = ours ? STATUS[code] : 500;
  const body = { code };
  if (code === 'WECHAT_API' && typeof err.errcode === 'number') body.errcode = err.errcode;
  return { status, body };
}

function send(res, status, body, headers) {
  if (res.headersSent) return;
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  for (const k of Object.keys(headers || {})) res.setHeader(k, headers[k]);
  res.end(JSON.stringify(body));
}

const CHALLENGE = { 'www-authenticate': 'Bearer error="invalid_token"' };

// readJson's own refusals carry the status to answer with. `unread`: the
// rest of the body was never read, so the connection closes after the
// answer (keeping it alive would mean reading and discarding everything the
// client still sends). Only these set the status: an error from further on
// (WeChat's HTTP_ERROR carries WeChat's status) is answered by its code.
const refused = (status, code, message, unread) => Object.assign(codedError(code, message), { status, refused: true, unread });

function parseJson(text) {
  try {
    return text ? JSON.parse(text) : {};
  } catch (_) {
    throw codedError('BAD_INPUT', 'the body is not JSON');
  }
}

/**
 * A request body as JSON, read with a size cap and a deadline. A declared
 * length over the cap is refused before anything is read; a body that
 * grows past it stops being read at once.
 */
function readJson(req, limit, timeout) {
  const parsed = req.body;
  if (parsed !== undefined && parsed !== null && typeof parsed === 'object' && !Buffer.isBuffer(parsed)) return Promise.resolve(parsed);
  const tooLarge = (unread) => refused(413, 'BAD_INPUT', 'the body is larger than ' + limit + ' bytes', unread);
  // A body parser in front already read the stream (express.text, express.raw).
  if (typeof parsed === 'string' || Buffer.isBuffer(parsed)) {
    const size = typeof parsed === 'string' ? Buffer.byteLength(parsed) : parsed.length;
    if (size > limit) return Promise.reject(tooLarge(false));
    return new Promise((resolve) => resolve(parseJson(parsed.toString('utf8'))));
  }
  if (Number(req.headers['content-length']) > limit) return Promise.reject(tooLarge(true));
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    let settled = false;
    const timer = setTimeout(() => fail(refused(408, 'TIMEOUT', 'the request body did not arrive in time', true)), timeout);
    function fail(err) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.removeListener('data', onData);
      req.pause();
      reject(err);
    }
    function onData(chunk) {
      size += chunk.length;
      if (size > limit) return fail(tooLarge(true));
      chunks.push(chunk);
    }
    req.on('data', onData);
    req.on('error', () => fail(refused(400, 'BAD_INPUT', 'the body could not be read', true)));
    req.on('end', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try {
        resolve(parseJson(Buffer.concat(chunks).toString('utf8')));
      } catch (err) {
        reject(err);
      }
    });
  });
}

const HANDLER_OPTIONS = { data: 'function', limit: intIn(64, 1024 * 1024, 'bytes'), timeout: intIn(1, 600000, 'ms') };
const GUARD_OPTIONS = { property: 'nonEmptyString' };

export class Sessions {
  constructor(wechat) {
    this._core = wechat._core;
    this._run = (started) => wechat._driver.run(started);
  }

  /**
   * Trades a wx.login code for a new session: { token, expiresIn, openid,
   * unionid? }. Concurrent calls with one code share one jscode2session.
   */
  login(code, options) {
    return checked(() => {
      text('the code', code, 512);
      const o = checkOptions('sessions.login', options, { data: 'object' });
      const data = o.data === undefined ? undefined : infoText(o.data);
      return this._run(this._core.startLogin(code, randomBytes(32), data, Date.now())).then(JSON.parse);
    });
  }

  /** The session of a token (frozen): { openid, unionid?, createdAt, expiresAt, data }; UNAUTHORIZED otherwise. */
  verify(token) {
    return checked(() => this._run(this._core.startVerify(token43(token), Date.now())));
  }

  /** Ends one session; a token that names none (already revoked, expired) is fine. */
  revoke(token) {
    return checked(() => this._run(this._core.startRevoke(token43(token), Date.now())).then(() => undefined));
  }

  /** Revokes every session of a user; resolves how many of them were live. */
  revokeUser(openid) {
    return checked(() => this._run(this._core.startRevokeUser(openidOf(openid), Date.now())).then(Number));
  }

  /**
   * A user's live sessions, oldest first, each as verify() answers it (no
   * token, no session_key): one read of the user's record and one per
   * session it lists (at most 20).
   */
  list(openid) {
    return checked(() => this._run(this._core.startListSessions(openidOf(openid), Date.now())).then(JSON.parse));
  }

  /** WeChat's encryptedData decrypted with the session's stored session_key (its watermark checked). */
  decrypt(token, encryptedData, iv) {
    return checked(() => {
      token43(token);
      text('encryptedData', encryptedData, 350 * 1024);
      text('iv', iv, 64);
      return this._run(this._core.startDecrypt(token, encryptedData, iv, Date.now())).then(JSON.parse);
    });
  }

  /**
   * POST JSON { code, ... } -> 200 { token, expiresIn }: the client's default
   * exchange (`loginUrl`). `data(body, req)` may return what to keep with the
   * session. 400 for a missing code, 413 for a body over `limit` (16 KiB,
   * refused without reading the rest), 408 for one slower than `timeout`,
   * 502 when WeChat refuses; never a stack trace.
   */
  loginHandler(options) {
    const o = checkOptions('sessions.loginHandler', options, HANDLER_OPTIONS);
    const limit = o.limit || 16 * 1024, timeout = o.timeout || 10000;
    return (req, res) => {
      if (req.method !== 'POST') return send(res, 405, { code: 'BAD_INPUT' }, { allow: 'POST' });
      readJson(req, limit, timeout)
        .then((body) => {
          if (!body || typeof body.code !== 'string' || !body.code) throw codedError('BAD_INPUT', 'the body has no code');
          return Promise.resolve(o.data ? o.data(body, req) : undefined).then((data) => this.login(body.code, { data }));
        })
        .then((s) => send(res, 200, { token: s.token, expiresIn: s.expiresIn }), (err) => {
          const { status, body } = httpError(err);
          if (err && err.refused) send(res, err.status, body, err.unread ? { connection: 'close' } : undefined);
          else send(res, status, body);
        });
    };
  }

  /**
   * Express/Connect/node:http guard: a valid Bearer token puts the session on
   * `req[property]` (default `req.wxsession`) and calls next(); otherwise 401
   * with `WWW-Authenticate: Bearer error="invalid_token"` and { code }.
   */
  middleware(options) {
    const o = checkOptions('sessions.middleware', options, GUARD_OPTIONS);
    const property = o.property || 'wxsession';
    return (req, res, next) => {
      this.verify(bearer(req.headers && req.headers.authorization)).then((session) => {
        req[property] = session;
        if (typeof next !== 'function') return;
        // A route that throws or rejects (bare node:http has no one to catch
        // it) gets a 500 with a code, not an unhandled rejection that ends
        // the process and leaves the client without an answer.
        const failed = () => send(res, 500, { code: 'INTERNAL' });
        let ran;
        try {
          ran = next();
        } catch (_) {
          return failed();
        }
        if (ran !== null && typeof ran === 'object' && typeof ran.then === 'function') ran.then(undefined, failed);
      }, (err) => {
        const { status, body } = httpError(err);
        send(res, status, body, status === 401 ? CHALLENGE : undefined);
      });
    };
  }

  /** The same guard for Koa: the session on `ctx.state[property]`. */
  koa(options) {
    const o = checkOptions('sessions.koa', options, GUARD_OPTIONS);
    const property = o.property || 'wxsession';
    return async (ctx, next) => {
      let session;
      try {
        session = await this.verify(bearer(ctx.get('authorization')));
      } catch (err) {
        const { status, body } = httpError(err);
        ctx.status = status;
        if (status === 401) ctx.set('www-authenticate', CHALLENGE['www-authenticate']);
        ctx.body = body;
        return;
      }
      ctx.state[property] = session;
      await next();
    };
  }

  /** The login route for Koa (`router.post('/auth/login', sessions.koaLogin())`). */
  koaLogin(options) {
    const handler = this.loginHandler(options);
    return (ctx) => new Promise((resolve) => {
      ctx.respond = false; // the handler writes the response itself
      const res = ctx.res;
      res.once('finish', resolve);
      res.once('close', resolve);
      if (ctx.request.body !== undefined) ctx.req.body = ctx.request.body;
      handler(ctx.req, res);
    });
  }
}

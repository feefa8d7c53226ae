// The driver: runs the effects the Rust SessionCore asks for and reports
// outcomes back. It holds promises and response bodies (which never enter
// wasm) and nothing else; every decision is the core's.
import { SessionCore, errorCodes } from 'wxsession-bg';
import { codedError, withTimeout } from './errors.js';

// Effect kinds and flags, mirrored from src/wasm/session.rs (the boundary
// and package tests fail if they drift).
const CHECK = 1, LOGIN = 2, SEND = 3, RESOLVE = 4, REJECT = 5, PERSIST = 6, CLEAR = 7, STATE = 8;
const SEND_NOW = 0x80000000, FROM_LOGIN = 0x100;
const STATES = ['anonymous', 'logging-in', 'authenticated'];
let CODES = null;
// Looked up once for the hot path (a global lookup per request adds up).
const P = Promise;

// Functions stay in JS; the core only learns that they were given.
function describe(options) {
  const out = {};
  for (const key of Object.keys(options)) {
    const v = options[key];
    if (v !== undefined) out[key] = typeof v === 'function' ? true : v;
  }
  return out;
}

const isAbsolute = (url) => url.startsWith('https://') || url.startsWith('http://');

export function createSessionWith(kind, host, options) {
  if (!options || typeof options !== 'object') throw codedError('BAD_CONFIG', 'createSession needs an options object');
  for (const fn of ['exchange', 'exchangeBody', 'getCode']) {
    if (options[fn] !== undefined && typeof options[fn] !== 'function') {
      throw codedError('BAD_CONFIG', fn + ' must be a function');
    }
  }
  CODES = CODES || errorCodes().split(',');
  const core = new SessionCore(JSON.stringify(describe(options)), kind);
  const session = new Session(core, host, options);
  let stored;
  try { stored = host.storage.get(session._opts.storageKey); } catch (_) { stored = null; }
  core.restore(typeof stored === 'string' && stored ? stored : undefined, host.now());
  return session;
}

export class Session {
  constructor(core, host, options) {
    this._core = core;
    this._host = host;
    this._user = options;
    this._opts = JSON.parse(core.options);
    this._pending = new Map();
    this._listeners = new Set();
    this._generation = -1;
    this._auth = '';
    this._loginCause = null;
  }

  get state() { return this._core.state; }

  onChange(listener) {
    if (typeof listener !== 'function') throw codedError('BAD_CONFIG', 'onChange takes a function');
    this._listeners.add(listener);
    return () => { this._listeners.delete(listener); };
  }

  request(req) {
    if (!req || typeof req.url !== 'string' || !req.url) {
      return P.reject(codedError('BAD_CONFIG', 'request needs { url }'));
    }
    return new P((resolve, reject) => {
      const now = this._host.now();
      const r = this._core.request(now);
      const entry = { req, resolve, reject, res: null, err: null };
      if (r >= SEND_NOW) {
        // The warm path: nothing queued, send at once.
        this._pending.set(r - SEND_NOW, entry);
        this._send(r - SEND_NOW, now);
      } else {
        this._pending.set(r, entry);
        this._pump();
      }
    });
  }

  login(opts) {
    return new Promise((resolve, reject) => {
      const id = this._core.login(!!(opts && opts.force), this._host.now());
      this._pending.set(id, { req: null, resolve, reject, res: null, err: null });
      this._pump();
    });
  }

  logout() {
    this._core.logout();
    this._pump();
    return Promise.resolve();
  }

  // Handlers never call back into the core synchronously, so one drain
  // sees every effect the last call queued.
  _pump() {
    const fx = this._core.takeEffects();
    for (let i = 0; i < fx.length; i += 3) this._run(fx[i], fx[i + 1], fx[i + 2]);
  }

  _run(kind, a, b) {
    switch (kind) {
      case SEND: return this._send(a, this._host.now());
      case RESOLVE: return this._settle(a, null, false);
      case REJECT: return this._settle(a, CODES[b & 0xff], (b & FROM_LOGIN) !== 0);
      case CHECK: return this._check(a);
      case LOGIN: return this._login(a);
      case PERSIST: return this._store(() => this._host.storage.set(this._opts.storageKey, this._core.persistedValue()));
      case CLEAR: return this._store(() => this._host.storage.remove(this._opts.storageKey));
      case STATE: return this._emit(STATES[a]);
      default: throw new Error('wxsession: unknown effect ' + kind);
    }
  }

  // `now` is handed to the host so its deadline costs no second clock read.
  _send(id, now) {
    const p = this._pending.get(id);
    const generation = this._core.generation;
    if (generation !== this._generation) {
      this._generation = generation;
      this._auth = this._opts.tokenPrefix + this._core.token();
    }
    const req = p.req;
    const header = req.header ? Object.assign({}, req.header) : {};
    header[this._opts.tokenHeader] = this._auth;
    this._host.send(
      { url: isAbsolute(req.url) ? req.url : this._opts.baseUrl + req.url, method: req.method || 'GET', data: req.data, header, timeout: req.timeout || this._opts.timeout, now },
      (res) => {
        p.res = res;
        if (this._core.response(id, res.status, this._host.now())) this._settle(id, null, false);
        else this._pump();
      },
      (err) => {
        p.err = err;
        this._core.requestFailed(id, err && err.code === 'TIMEOUT' ? 'TIMEOUT' : 'NETWORK');
        this._pump();
      },
    );
  }

  _settle(id, code, fromLogin) {
    const p = this._pending.get(id);
    if (!p) return;
    this._pending.delete(id);
    if (code === null) return p.resolve(p.res ? p.res.data : undefined);
    p.reject(fromLogin ? this._loginError(code) : this._requestError(code, p));
  }

  _requestError(code, p) {
    if (p.res) {
      const what = code === 'UNAUTHORIZED' ? 'still rejected after re-login' : 'the server answered';
      return codedError(code, what + ' with HTTP ' + p.res.status, { status: p.res.status, data: p.res.data });
    }
    return codedError(code, (p.err && (p.err.message || String(p.err))) || code, { cause: p.err });
  }

  // The core has the message; the host's error has the details (the HTTP
  // status and body of a failed exchange, wx's errMsg).
  _loginError(code) {
    const cause = this._loginCause;
    const extra = { cause: cause || undefined };
    if (cause && cause.status !== undefined) { extra.status = cause.status; extra.data = cause.data; }
    return codedError(code, 'login failed: ' + (this._core.lastLoginError() || code), extra);
  }

  _check(id) {
    this._host.checkSession(this._opts.timeout).then(() => true, () => false).then((ok) => {
      this._core.checkSessionDone(id, ok, this._host.now());
      this._pump();
    });
  }

  _login(id) {
    this._obtainToken().then(
      (body) => {
        const b = body && typeof body === 'object' ? body : {};
        this._loginCause = null;
        this._core.loginSucceeded(id, typeof b.token === 'string' ? b.token : undefined,
          typeof b.expiresIn === 'number' ? b.expiresIn : undefined, this._host.now());
        this._pump();
      },
      (err) => {
        this._loginCause = err;
        const code = err && typeof err.code === 'string' ? err.code : 'EXCHANGE_FAILED';
        this._core.loginFailed(id, code, (err && err.message) || String(err), this._host.now());
        this._pump();
      },
    );
  }

  _http(opts) {
    return new Promise((resolve, reject) => this._host.send(Object.assign({ now: this._host.now() }, opts), resolve, reject));
  }

  // wx.login (or getCode), then the exchange; each step bounded by the timeout.
  async _obtainToken() {
    const ms = this._opts.timeout;
    const failed = (what) => (e) => {
      throw codedError(e && e.code === 'TIMEOUT' ? 'TIMEOUT' : 'EXCHANGE_FAILED', what + ' failed: ' + ((e && e.message) || e), { cause: e });
    };
    const code = await this._host.getCode(ms);
    let extra = {};
    if (this._user.exchangeBody) {
      extra = await withTimeout(Promise.resolve().then(() => this._user.exchangeBody()), ms, 'exchangeBody').catch(failed('exchangeBody'));
    }
    if (this._user.exchange) {
      return withTimeout(Promise.resolve().then(() => this._user.exchange(code, extra)), ms, 'exchange').catch(failed('exchange'));
    }
    const loginUrl = this._opts.loginUrl;
    const res = await this._http({
      url: isAbsolute(loginUrl) ? loginUrl : this._opts.baseUrl + loginUrl,
      method: 'POST', data: Object.assign({}, extra, { code }), header: { 'content-type': 'application/json' }, timeout: ms,
    }).catch(failed('code exchange'));
    if (res.status < 200 || res.status > 299) {
      throw codedError('EXCHANGE_FAILED', 'code exchange answered HTTP ' + res.status, { status: res.status, data: res.data });
    }
    return res.data;
  }

  // A failing storage write keeps the token in memory for this lifecycle.
  _store(write) {
    try { write(); } catch (_) { /* deliberately not fatal */ }
  }

  _emit(state) {
    for (const listener of Array.from(this._listeners)) {
      try { listener(state); } catch (_) { /* a listener's bug must not break the session */ }
    }
  }
}

// The driver: runs the effects the Rust SessionCore asks for and reports
// outcomes back. It holds promises and response bodies (which never enter
// wasm) and nothing else; every decision is the core's.
import { SessionCore, errorCodes } from 'wxsession-bg';
import { codedError, withDeadline, withTimeout } from './errors.js';
import { coreOptionsJson } from './session-options.js';
import { withoutQuery } from './http.js';
import { REQUEST } from './kinds.js';

// Effect kinds and flags, mirrored from src/wasm/session.rs, and event
// types in the order of the core's EventKind (the boundary, package and
// session-events tests fail if they drift).
const CHECK = 1, LOGIN = 2, SEND = 3, RESOLVE = 4, REJECT = 5, PERSIST = 6, CLEAR = 7, STATE = 8, REPORT = 9;
const SEND_NOW = 0x80000000, FROM_LOGIN = 0x100;
const STATES = ['anonymous', 'logging-in', 'authenticated'];
const EVENT_TYPES = ['request', 'upload', 'download', 'login', 'relogin', 'checkSession'];
let CODES = null;
// Looked up once for the hot path (a global lookup per request adds up).
const P = Promise;
// A path that extends baseUrl as is (the core would resolve it to exactly
// baseUrl + url): no second slash or backslash up front, no dot segment,
// fragment or control character. Anything else asks the core.
const PLAIN_PATH = /^\/(?![/\\])[^\x00-\x1f\x7f\\#]*$/;
const noop = () => {};

/**
 * Opens a session over `host` (now, checkSession, getCode, send) with
 * options already checked by sessionOptions(). `openStorage(resolved)`
 * returns the storage ({ get, set, delete }, sync or async) once the core
 * has accepted the options. Resolves once the stored token is read.
 */
export function openSession(kind, host, options, openStorage, SessionClass) {
  CODES = CODES || errorCodes().split(',');
  const core = new SessionCore(coreOptionsJson(options), kind);
  const resolved = JSON.parse(core.options);
  const session = new (SessionClass || Session)(core, host, options, resolved, options.storage || openStorage(resolved));
  const storage = session._storage;
  const key = session._opts.storageKey;
  return session._bounded(() => storage.get(key), 'storage.get').catch(() => null).then((stored) => {
    core.restore(typeof stored === 'string' && stored ? stored : undefined, host.now());
    return session;
  });
}

export class Session {
  constructor(core, host, options, resolved, storage) {
    this._core = core;
    this._host = host;
    this._user = options;
    this._storage = storage;
    this._opts = resolved;
    this._pending = new Map();
    this._listeners = new Set();
    this._generation = -1;
    this._auth = '';
    this._loginCause = null;
    // Storage writes run one at a time; changes made while one runs ride
    // on the next, which writes whatever the core holds by then.
    this._writing = P.resolve();
    this._queued = null;
    this._expiry = 0;
    this._targets = new Map();
    this._onEvent = options.onEvent || null;
  }

  get state() { return this._core.state; }

  onChange(listener) {
    if (typeof listener !== 'function') throw codedError('BAD_CONFIG', 'onChange takes a function');
    this._listeners.add(listener);
    return () => { this._listeners.delete(listener); };
  }

  request(req) {
    let url;
    try {
      url = this._target(req);
    } catch (err) {
      return P.reject(err);
    }
    return new P((resolve, reject) => {
      const now = this._host.now();
      this._enqueue(this._core.request(now), { kind: REQUEST, req, url, resolve, reject, res: null, err: null }, now);
    });
  }

  // What the core answered for a new request or transfer: its id, flagged
  // SEND_NOW on the warm path (nothing queued: send at once).
  _enqueue(r, entry, now) {
    const id = r >= SEND_NOW ? r - SEND_NOW : r;
    this._pending.set(id, entry);
    if (r >= SEND_NOW) this._send(id, now);
    else this._pump();
    return id;
  }

  // Where `req` goes, checked before the core hears of it: a URL the token
  // may not go to is BAD_CONFIG and starts no login.
  _target(req) {
    if (!req || typeof req !== 'object' || typeof req.url !== 'string' || !req.url) {
      throw codedError('BAD_CONFIG', 'request needs { url }');
    }
    const t = req.timeout;
    if (t !== undefined && !(Number.isSafeInteger(t) && t > 0 && t <= 600000)) {
      throw codedError('BAD_CONFIG', 'request: timeout must be a whole number from 1 to 600000 ms');
    }
    if (req.method !== undefined && typeof req.method !== 'string') throw codedError('BAD_CONFIG', 'request: method must be a string');
    if (req.header !== undefined && (req.header === null || typeof req.header !== 'object')) {
      throw codedError('BAD_CONFIG', 'request: header must be an object');
    }
    return this._resolve(req.url);
  }

  // Apps repeat their URLs: a resolution depends only on the URL and this
  // session's options, so short ones are remembered (256 at most, cleared
  // when full: a few hundred KB at most).
  _resolve(url) {
    let target = this._targets.get(url);
    if (target === undefined) {
      target = PLAIN_PATH.test(url) && url.indexOf('/.') < 0 && this._opts.baseUrl ? this._opts.baseUrl + url : this._core.resolveUrl(url);
      if (url.length <= 512) {
        if (this._targets.size >= 256) this._targets.clear();
        this._targets.set(url, target);
      }
    }
    return target;
  }

  /**
   * An upload or download (`kind`) of `req` (checked by the host's glue) to
   * `url` (from _resolve): the request rule, plus an `abort()` on the
   * promise. `req.onProgress` hears the host's progress events.
   */
  _transfer(kind, req, url) {
    let id = 0;
    const promise = new P((resolve, reject) => {
      const now = this._host.now();
      id = this._enqueue(this._core.transfer(kind, now), { kind, req, url, resolve, reject, res: null, err: null, task: null }, now);
    });
    promise.abort = () => {
      const p = this._pending.get(id);
      if (!p || !this._core.abort(id, this._host.now())) return;
      const task = p.task;
      p.task = null;
      this._pump();
      // Its fail callback comes later and finds nothing pending.
      if (task && typeof task.abort === 'function') {
        try { task.abort(); } catch (_) { /* settled already */ }
      }
    };
    return promise;
  }

  login(opts) {
    return new P((resolve, reject) => {
      const id = this._core.login(!!(opts && opts.force), this._host.now());
      this._pending.set(id, { kind: REQUEST, req: null, resolve, reject, res: null, err: null });
      this._pump();
    });
  }

  /** Resolves once storage no longer holds the token (or failed to drop it). */
  logout() {
    this._core.logout();
    this._pump();
    return this._writing;
  }

  // Handlers never call back into the core synchronously, so one drain
  // sees every effect the last call queued.
  _pump() {
    const fx = this._core.takeEffects();
    for (let i = 0; i < fx.length; i += 3) {
      if (fx[i] === REPORT) {
        // The one effect of six numbers: see src/wasm/session.rs.
        this._report(fx[i + 1], fx[i + 2], fx[i + 3], fx[i + 4]);
        i += 3;
      } else {
        this._run(fx[i], fx[i + 1], fx[i + 2]);
      }
    }
  }

  _run(kind, a, b) {
    switch (kind) {
      case SEND: return this._send(a, this._host.now());
      case RESOLVE: return this._settle(a, null, false);
      case REJECT: return this._settle(a, CODES[b & 0xff], (b & FROM_LOGIN) !== 0);
      case CHECK: return this._check(a);
      case LOGIN: return this._login(a);
      case PERSIST: this._expiry = a; return this._sync();
      case CLEAR: return this._sync();
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
    const onOk = (res) => {
      p.res = res;
      const status = res.status;
      if (!(status >= 100 && status <= 599 && status % 1 === 0)) {
        p.res = null;
        p.err = codedError('NETWORK', 'the request got no HTTP status');
        this._core.requestFailed(id, 'NETWORK', this._host.now());
        this._pump();
      } else if (this._core.response(id, status, this._host.now())) this._settle(id, null, false);
      else this._pump();
    };
    const onErr = (err) => {
      p.err = err;
      this._core.requestFailed(id, err && err.code === 'TIMEOUT' ? 'TIMEOUT' : 'NETWORK', this._host.now());
      this._pump();
    };
    const timeout = req.timeout || this._opts.timeout;
    if (p.kind === REQUEST) {
      this._host.send({ url: p.url, method: req.method || 'GET', data: req.data, header, timeout, now }, onOk, onErr);
    } else {
      // The host answers { status, data (the body, for errors), value (what resolves) }.
      p.task = this._host.transfer(p.kind, Object.assign({}, req, { url: p.url, header, timeout, now }), onOk, onErr);
    }
  }

  _settle(id, code, fromLogin) {
    const p = this._pending.get(id);
    if (!p) return;
    this._pending.delete(id);
    if (code === null) {
      // login() promises the token is kept, not only held: wait for the write.
      if (p.req === null) return this._writing.then(() => p.resolve());
      return p.resolve(p.res ? (p.kind === REQUEST ? p.res.data : p.res.value) : undefined);
    }
    p.reject(fromLogin ? this._loginError(code) : this._requestError(code, p));
  }

  _requestError(code, p) {
    if (code === 'ABORTED') return codedError(code, 'the ' + EVENT_TYPES[p.kind] + ' of ' + withoutQuery(p.url) + ' was aborted');
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
        const e = b.expiresIn;
        this._loginCause = null;
        // Absent means "no lifetime given"; anything but a number is NaN,
        // which the core refuses (a string "7200" must not mean forever).
        this._core.loginSucceeded(id, typeof b.token === 'string' ? b.token : undefined,
          e === undefined || e === null ? undefined : typeof e === 'number' ? e : NaN, this._host.now());
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
    return new P((resolve, reject) => this._host.send(Object.assign({ now: this._host.now() }, opts), resolve, reject));
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
      extra = await withTimeout(P.resolve().then(() => this._user.exchangeBody()), ms, 'exchangeBody').catch(failed('exchangeBody'));
    }
    if (this._user.exchange) {
      return withTimeout(P.resolve().then(() => this._user.exchange(code, extra)), ms, 'exchange').catch(failed('exchange'));
    }
    const res = await this._http({
      url: this._opts.loginUrl, method: 'POST', data: Object.assign({}, extra, { code }),
      header: { 'content-type': 'application/json' }, timeout: ms,
    }).catch(failed('code exchange'));
    if (res.status < 200 || res.status > 299) {
      throw codedError('EXCHANGE_FAILED', 'code exchange answered HTTP ' + res.status, { status: res.status, data: res.data });
    }
    return res.data;
  }

  // A storage call with the session's deadline: a storage that never
  // answers must not hang createSession, logout() or login().
  _bounded(call, what) {
    return withDeadline(P.resolve().then(call), this._opts.timeout, 'TIMEOUT', what);
  }

  // Writes what the core holds now. A failing write is not fatal: the
  // token stays in memory for this lifecycle.
  _sync() {
    if (!this._queued) {
      const key = this._opts.storageKey;
      this._queued = this._writing.then(() => {
        this._queued = null;
        const value = this._core.persistedValue();
        // The core's expiry (epoch seconds, 0: none) as the storage's ttl.
        const ttl = this._expiry ? Math.max(1, this._expiry * 1000 - this._host.now()) : 0;
        return this._bounded(() => (value ? this._storage.set(key, value, ttl) : this._storage.delete(key)), 'storage write').then(noop, noop);
      });
      this._writing = this._queued;
    }
    return this._queued;
  }

  // An onEvent report: what happened, never with what (the URL without its
  // query; no token, code or body). The hook runs after this turn's work,
  // and whatever it throws or returns stays with it.
  _report(req, packed, durationMs, status) {
    const hook = this._onEvent;
    const p = req ? this._pending.get(req) : undefined;
    const event = { type: EVENT_TYPES[packed & 0xff], durationMs, attempt: packed >>> 16 };
    if (p) event.url = withoutQuery(p.url);
    if (status) event.status = status;
    if (packed & 0xff00) event.error = CODES[(packed >>> 8) & 0xff];
    P.resolve(event).then(hook).catch(noop);
  }

  _emit(state) {
    for (const listener of Array.from(this._listeners)) {
      try { listener(state); } catch (_) { /* a listener's bug must not break the session */ }
    }
  }
}

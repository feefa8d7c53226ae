// Helpers for scripts/demo.mjs: a millisecond timeline, logging wrappers
// around the fake wx, a page instance with setData, and the checks that
// make the demo exit 1 when the library misbehaves.
import { cpSync } from 'node:fs';
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';

export const STORAGE_KEY = 'wxsession';

/** Prints `  +123 ms  who      text` lines; reset() starts a new section at +0. */
export function createTimeline(out = (line) => console.log(line)) {
  let t0 = performance.now();
  return {
    reset() { t0 = performance.now(); },
    log(who, text) {
      const ms = Math.round(performance.now() - t0);
      out(`${('+' + ms).padStart(7)} ms  ${who.padEnd(8)} ${text}`);
    },
  };
}

export function heading(title) {
  console.log(`\n== ${title} ${'='.repeat(Math.max(2, 74 - title.length))}`);
}

export const short = (s, n = 6) => (typeof s === 'string' && s.length > n ? s.slice(0, n) + '…' : String(s));

/** The stored session record in a few words (never the whole token). */
export function describeStored(value) {
  if (value === '' || value === undefined || value === null) return "'' (nothing stored)";
  try {
    // wx storage holds { value, expiresAt }; the value is the token record.
    const rec = JSON.parse(value.value);
    if (rec && typeof rec.token === 'string') {
      const left = typeof rec.expiresAt === 'number' ? `, expires in ${Math.round((rec.expiresAt - Date.now()) / 1000)} s` : '';
      return `token ${short(rec.token)}${left}`;
    }
  } catch { /* not a session record: show it raw */ }
  return short(JSON.stringify(value), 40);
}

/**
 * Wraps the fake wx's methods so every call (and its callback) lands on the
 * timeline. Must run before the sandbox is created: the library looks the
 * methods up on `wx` at call time, so it calls the wrappers.
 */
export function instrumentWx(wx, tl, origin) {
  const path = (url) => (typeof url === 'string' && url.startsWith(origin) ? url.slice(origin.length) : url);
  const wrapAsync = (name, describeCall, describeOk) => {
    const original = wx[name];
    wx[name] = function (opts = {}) {
      const t = performance.now();
      const label = describeCall(opts);
      tl.log('wx', `→ wx.${name}${label ? ' ' + label : ''}`);
      const after = (cb, text) => (res) => {
        tl.log('wx', `← wx.${name} ${text(res, opts)} (${Math.round(performance.now() - t)} ms)`);
        if (typeof cb === 'function') cb(res);
      };
      return original.call(wx, Object.assign({}, opts, {
        success: after(opts.success, describeOk),
        fail: after(opts.fail, (err) => `FAIL ${err && err.errMsg}`),
      }));
    };
  };
  wrapAsync('getRandomValues', (o) => `(${o.length} bytes, seeds the wasm CSPRNG)`, () => 'ok');
  wrapAsync('checkSession', () => '', () => 'ok');
  wrapAsync('login', () => '', (res) => `ok, code ${short(res.code)}`);
  const target = (o) => {
    const method = (o.method || 'GET').toUpperCase();
    const query = method === 'GET' && o.data && typeof o.data === 'object' ? new URLSearchParams(o.data).toString() : '';
    return `${method} ${path(o.url)}${query ? '?' + query : ''}`;
  };
  wrapAsync('request', (o) => {
    const auth = o.header && o.header.Authorization;
    const carries = auth ? ` [${short(auth, 13)}]` : o.data && o.data.code ? ` { code: ${short(o.data.code)} }` : '';
    return target(o) + carries;
  }, (res, opts) => `${res.statusCode} ${target(opts)}`);

  // The session keeps its token in wx storage through the Token Store's
  // backend: the asynchronous APIs, a { value, expiresAt } record.
  wrapAsync('getStorage', (o) => `'${o.key}'`, (res) => describeStored(res.data));
  wrapAsync('setStorage', (o) => `'${o.key}' = ${describeStored(o.data)}`, () => 'ok');
  wrapAsync('removeStorage', (o) => `'${o.key}'`, () => 'ok');
  return wx;
}

/** Logs WXWebAssembly.instantiate, which the sandbox creates itself. */
export function instrumentWasm(sandbox, tl) {
  const host = sandbox.context.WXWebAssembly;
  const instantiate = host.instantiate;
  host.instantiate = (path, imports) => {
    const t = performance.now();
    return instantiate.call(host, path, imports).then((r) => {
      tl.log('wasm', `WXWebAssembly.instantiate('${path}') (${Math.round(performance.now() - t)} ms)`);
      return r;
    });
  };
}

/** A console for the sandbox whose output joins the timeline. */
export function sandboxConsole(tl) {
  const line = (level) => (...args) => tl.log('console', `${level}: ${args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}`);
  return { log: line('log'), info: line('info'), warn: line('warn'), error: line('error'), debug: line('debug') };
}

/** Prints every session state change; returns the unsubscribe function. */
export function watchSession(session, tl) {
  let last = session.state;
  return session.onChange((state) => {
    tl.log('session', `${last} → ${state}`);
    last = state;
  });
}

/** What WeChat makes of a Page() definition: own data, setData with paths. */
export function pageInstance(def) {
  const page = Object.create(def);
  page.data = JSON.parse(JSON.stringify(def.data));
  page.setData = (patch, callback) => {
    for (const key of Object.keys(patch)) setPath(page.data, key, patch[key]);
    if (typeof callback === 'function') callback();
  };
  return page;
}

function setPath(root, path, value) {
  const keys = path.replace(/\[(\d+)\]/g, '.$1').split('.');
  let o = root;
  keys.slice(0, -1).forEach((k, i) => {
    if (o[k] === null || typeof o[k] !== 'object') o[k] = /^\d+$/.test(keys[i + 1]) ? [] : {};
    o = o[k];
  });
  o[keys[keys.length - 1]] = value === undefined ? value : JSON.parse(JSON.stringify(value));
}

/** Copies the sample like a fresh checkout: no node_modules, no earlier npm build. */
export function copyProject(from, to) {
  cpSync(from, to, { recursive: true, filter: (src) => !['node_modules', 'miniprogram_npm'].includes(basename(src)) });
}

/** One line per panel of the index page: `profile ok · orders error (EXCHANGE_FAILED) …`. */
export function describePage(data) {
  const items = data.items.map((it) => `${it.key} ${it.status}`).join(' · ');
  return `page.data: session ${data.state} | ${items} | "${data.summary}"`;
}

/**
 * Counts what the device sees of the backend at `origin`: exchanges (POST
 * …/auth/login) and 401 answers. Wraps wx.request; returns { wx, counts }.
 */
export function countRequests(wx, origin) {
  const counts = { exchange: 0, unauthorized: 0 };
  const request = wx.request;
  wx.request = function (opts = {}) {
    const mine = typeof opts.url === 'string' && opts.url.startsWith(origin);
    if (mine && (opts.method || 'GET').toUpperCase() === 'POST' && opts.url.slice(origin.length).split('?')[0] === '/auth/login') counts.exchange++;
    return request.call(wx, Object.assign({}, opts, {
      success(res) {
        if (mine && res.statusCode === 401) counts.unauthorized++;
        if (typeof opts.success === 'function') opts.success(res);
      },
    }));
  };
  return { wx, counts };
}

/** A network between the device and its servers: each wx.request leaves and answers `ms` later. */
export function withLatency(wx, ms) {
  const request = wx.request;
  wx.request = function (opts = {}) {
    const late = (cb) => (res) => setTimeout(() => typeof cb === 'function' && cb(res), ms);
    let task = null, aborted = false;
    setTimeout(() => {
      if (!aborted) task = request.call(wx, Object.assign({}, opts, { success: late(opts.success), fail: late(opts.fail) }));
    }, ms);
    return { abort() { aborted = true; if (task) task.abort(); } };
  };
  return wx;
}

/** Counters from wx and from what the device saw of the backend, and the difference between two reads. */
export function counters(wx, net) {
  return {
    login: wx.calls.login,
    checkSession: wx.calls.checkSession,
    request: wx.calls.request,
    exchange: net.counts.exchange,
    unauthorized: net.counts.unauthorized,
  };
}

export function delta(before, after) {
  const d = {};
  for (const k of Object.keys(after)) d[k] = after[k] - before[k];
  return d;
}

/** Expectation bookkeeping: prints ✓/✗ lines and remembers the failures. */
export function createChecks() {
  const failures = [];
  let passed = 0;
  return {
    failures,
    get passed() { return passed; },
    expect(ok, what, detail) {
      if (ok) passed++;
      console.log(`  ${ok ? '✓' : '✗'} ${what}${!ok && detail !== undefined ? `  (got ${detail})` : ''}`);
      if (!ok) failures.push(detail === undefined ? what : `${what} (got ${detail})`);
      return ok;
    },
  };
}

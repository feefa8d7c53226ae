// wx.* with a hard deadline: WeChat APIs report through success/fail
// callbacks, and a callback that never comes must not leave a caller
// waiting. Every wx call of the package goes through callWx (the session's
// here, the Token Store's in backends/wx-storage.js); promises on top.
import { codedError, initError } from '../shared/errors.js';
import { UPLOAD } from '../shared/kinds.js';

// Looked up once: a global lookup per call is measurable on the request
// hot path (and slow inside sandboxes).
const dateNow = Date.now;
const WX = typeof wx !== 'undefined' ? wx : undefined;

// One timer watches every pending call instead of one timer per call, so a
// busy page does not pay a setTimeout/clearTimeout pair per request.
const watched = new Set();
let timer = null;
let armedFor = Infinity;

// The timer wakes at least once a second while calls are pending and stops
// when a sweep finds none: an idle app holds it at most a second longer,
// and a busy one re-arms it about once a second, not once per call.
function arm(at) {
  if (timer !== null) clearTimeout(timer);
  const now = dateNow();
  armedFor = Math.min(at, now + 1000);
  timer = setTimeout(sweep, Math.max(0, armedFor - now));
}

function sweep() {
  timer = null;
  armedFor = Infinity;
  const now = dateNow();
  let next = Infinity;
  for (const call of watched) {
    if (call.deadline <= now) {
      watched.delete(call);
      call.expire();
    } else if (call.deadline < next) {
      next = call.deadline;
    }
  }
  if (next !== Infinity) arm(next);
}

/** The session's codes: TIMEOUT, and BAD_CONFIG for an API the base library lacks. */
export const SESSION_CODES = { timeout: 'TIMEOUT', missing: 'BAD_CONFIG' };

/**
 * Calls w[api](args) and settles exactly once: success, fail, a synchronous
 * throw, or `codes.timeout` after `ms` (then the task it returned, if any,
 * is aborted). `now` (optional) saves a clock read when the caller has just
 * made one. Returns that task (wx.request's, wx.uploadFile's...).
 */
export function callWx(w, codes, api, args, ms, onOk, onFail, now) {
  const fn = w !== undefined ? w[api] : undefined;
  if (typeof fn !== 'function') {
    onFail(codedError(codes.missing, 'wx.' + api + ' is not available in this base library'));
    return;
  }
  const call = {
    deadline: (now || dateNow()) + ms,
    done: false,
    task: undefined,
    expire: () => {
      if (call.done) return;
      call.done = true;
      const task = call.task;
      if (task && typeof task.abort === 'function') {
        try { task.abort(); } catch (_) { /* gone already */ }
      }
      onFail(codedError(codes.timeout, 'wx.' + api + ' timed out after ' + ms + ' ms'));
    },
  };
  const finish = (settle, value) => {
    if (call.done) return;
    call.done = true;
    watched.delete(call);
    settle(value);
  };
  watched.add(call);
  if (call.deadline < armedFor) arm(call.deadline);
  args.success = (res) => finish(onOk, res);
  args.fail = (err) => finish(onFail, err || { errMsg: api + ':fail' });
  try {
    call.task = fn.call(w, args);
  } catch (err) {
    finish(onFail, err);
  }
  return call.task;
}

export function wxCall(api, args, ms) {
  return new Promise((resolve, reject) => callWx(WX, SESSION_CODES, api, args, ms, resolve, reject));
}

export function errMsg(err) {
  return (err && (err.errMsg || err.message)) || String(err);
}

export const wxHost = {
  now: dateNow,
  checkSession: (ms) => wxCall('checkSession', {}, ms),
  getCode: (ms) => wxCall('login', { timeout: ms }, ms).then((res) => {
    if (!res || typeof res.code !== 'string' || !res.code) throw codedError('LOGIN_FAILED', 'wx.login returned no code');
    return res.code;
  }, (err) => {
    if (err && err.code) throw err;
    throw codedError('LOGIN_FAILED', 'wx.login failed: ' + errMsg(err), { errMsg: err && err.errMsg });
  }),
  send: (opts, onOk, onErr) => {
    callWx(WX, SESSION_CODES, 'request', {
      url: opts.url, method: opts.method, data: opts.data, header: opts.header, timeout: opts.timeout,
    }, opts.timeout, (res) => onOk({ status: res.statusCode, data: res.data }), failure(onErr), opts.now);
  },
  // wx.uploadFile (a string body, never parsed) or wx.downloadFile (a temp
  // file path); returns the task, for abort(). What resolves is what wx's
  // success gave, without errMsg.
  transfer: (kind, o, onOk, onErr) => {
    const upload = kind === UPLOAD;
    const args = upload
      ? { url: o.url, filePath: o.filePath, name: o.name, header: o.header, formData: o.formData, timeout: o.timeout }
      : { url: o.url, header: o.header, timeout: o.timeout };
    if (!upload && o.filePath !== undefined) args.filePath = o.filePath;
    const task = callWx(WX, SESSION_CODES, upload ? 'uploadFile' : 'downloadFile', args, o.timeout, (res) => {
      const value = { statusCode: res.statusCode };
      if (upload) value.data = res.data;
      if (res.tempFilePath !== undefined) value.tempFilePath = res.tempFilePath;
      if (res.filePath !== undefined) value.filePath = res.filePath;
      onOk({ status: res.statusCode, data: upload ? res.data : undefined, value });
    }, failure(onErr), o.now);
    const onProgress = o.onProgress;
    if (onProgress && task && typeof task.onProgressUpdate === 'function') {
      task.onProgressUpdate((e) => {
        const event = upload
          ? { progress: e.progress, totalBytesSent: e.totalBytesSent, totalBytesExpectedToSend: e.totalBytesExpectedToSend }
          : { progress: e.progress, totalBytesWritten: e.totalBytesWritten, totalBytesExpectedToWrite: e.totalBytesExpectedToWrite };
        try { onProgress(event); } catch (_) { /* the app's bug must not break the transfer */ }
      });
    }
    return task;
  },
};

// wx's fail payload as the session's codes: TIMEOUT when it says so, else NETWORK.
function failure(onErr) {
  return (err) => {
    if (err && err.code) return onErr(err);
    const msg = errMsg(err);
    onErr(codedError(/timeout/i.test(msg) ? 'TIMEOUT' : 'NETWORK', msg, { errMsg: err && err.errMsg }));
  };
}

/**
 * 32 bytes from wx.getRandomValues (base library 2.15+, asynchronous, so it
 * seeds the core's generator once at start-up), or null where the base
 * library has none (nonceStr then fails RANDOM_UNAVAILABLE; sessions need
 * no randomness). A call that fails or never answers rejects INIT_FAILED
 * within `ms`, so init() can be retried.
 */
export function wxRandomBytes(length, ms) {
  if (WX === undefined || typeof WX.getRandomValues !== 'function') return Promise.resolve(null);
  return wxCall('getRandomValues', { length }, ms).then((res) => {
    if (!res || !res.randomValues || res.randomValues.byteLength !== length) throw new Error('it answered no ' + length + ' bytes');
    return new Uint8Array(res.randomValues);
  }).catch((err) => {
    throw initError('wx.getRandomValues failed: ' + errMsg(err), err);
  });
}

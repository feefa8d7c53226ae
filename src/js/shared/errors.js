// Every rejection carries a stable `.code`. Errors are built here in plain
// JS, with no wasm call, so an error raised before the wasm is loaded (or
// by a backend that never loads it) has the same shape as every other:
// an Error named 'WxSessionError' with `.code` and optional extra fields.
// ES2017 and no host APIs: this file ships to mini-programs too.

export function codedError(code, message, extra) {
  const err = new Error(message);
  err.name = 'WxSessionError';
  err.code = code;
  if (extra) {
    for (const key of Object.keys(extra)) {
      if (extra[key] !== undefined) err[key] = extra[key];
    }
  }
  return err;
}

export function initError(message, cause) {
  return codedError('INIT_FAILED', 'INIT_FAILED: ' + message, { cause: cause });
}

/**
 * Settles with `promise`, or rejects with `code` after `ms`: no wx.* call,
 * fetch, backend call or user hook may leave a caller waiting forever. The
 * one deadline helper of the package.
 */
export function withDeadline(promise, ms, code, what) {
  let timer;
  const deadline = new Promise(function (_, reject) {
    timer = setTimeout(function () {
      reject(codedError(code, what + ' timed out after ' + ms + ' ms'));
    }, ms);
  });
  return Promise.race([promise, deadline]).then(
    function (value) { clearTimeout(timer); return value; },
    function (err) { clearTimeout(timer); throw err; }
  );
}

export function withTimeout(promise, ms, what) {
  return withDeadline(promise, ms, 'TIMEOUT', what);
}

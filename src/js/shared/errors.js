// Every rejection carries a stable `.code`. Errors are built by the wasm
// boundary (makeError) so all hosts share one shape; only a failure to load
// the wasm itself has to be built here, before makeError exists.
import { makeError } from 'wxsession-bg';

export function codedError(code, message, extra) {
  const err = makeError(code, message);
  if (extra) Object.assign(err, extra);
  return err;
}

export function initError(message, cause) {
  const err = new Error('INIT_FAILED: ' + message);
  err.name = 'WxSessionError';
  err.code = 'INIT_FAILED';
  if (cause !== undefined) err.cause = cause;
  return err;
}

// Settles with `promise`, or rejects with TIMEOUT after `ms`: no wx.* call,
// fetch or user hook may leave a caller waiting forever.
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(codedError('TIMEOUT', what + ' timed out after ' + ms + ' ms')), ms);
  });
  return Promise.race([promise, timeout]).then(
    (value) => { clearTimeout(timer); return value; },
    (err) => { clearTimeout(timer); throw err; },
  );
}

// Mini-program entry (CommonJS after bundling). Needs only what a device has:
// wx, WXWebAssembly, timers and ES2017 built-ins.
import { memoisedInit } from '../shared/loader.js';
import { codedError, initError, withTimeout } from '../shared/errors.js';
import { openSession } from '../shared/session.js';
import { MiniProgramSession } from './transfer.js';
import { sessionOptions } from '../shared/session-options.js';
import { wxHost, wxRandomBytes } from './wx.js';
import { wxStorageBackend } from '../backends/wx-storage.js';

// Where WeChat DevTools' "build npm" puts this package's files.
export const DEFAULT_WASM_PATH = '/miniprogram_npm/wxsession/wxsession_bg.wasm.br';

export const init = memoisedInit(async (imports, options) => {
  if (typeof WXWebAssembly === 'undefined') {
    throw initError('WXWebAssembly is missing: wxsession needs base library 2.14.0 or later');
  }
  const ms = options.timeout === undefined ? 10000 : options.timeout;
  if (!(Number.isSafeInteger(ms) && ms > 0 && ms <= 600000)) throw codedError('BAD_CONFIG', 'init: timeout must be a whole number from 1 to 600000 ms');
  // Entropy first: the module must never ask for randomness unseeded.
  const entropy = await wxRandomBytes(32, ms);
  const path = options.wasmPath || DEFAULT_WASM_PATH;
  const result = await withTimeout(WXWebAssembly.instantiate(path, imports), ms, 'WXWebAssembly.instantiate(' + path + ')');
  return { instance: result.instance || result, entropy };
});

export async function createSession(options) {
  const opts = sessionOptions('miniprogram', options);
  await init(opts);
  // wx storage under exactly storageKey, through the Token Store's backend.
  return openSession('miniprogram', wxHost, opts, (o) => wxStorageBackend({ prefix: '', timeout: o.timeout }), MiniProgramSession);
}

// The class of every session this entry opens: request() plus uploadFile and downloadFile.
export { MiniProgramSession as Session };
// Only what a mini-program can use: no Token Store (it caches server
// credentials a mini-program never holds) and no signatures (each needs a
// server's secret). Both are in the node entry.
export { nonceStr } from '../shared/nonce.js';

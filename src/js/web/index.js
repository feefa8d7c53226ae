// Web entry (ES module): fetch + localStorage over the shared core.
import { memoisedInit } from '../shared/loader.js';
import { openSession, Session } from '../shared/session.js';
import { sessionOptions } from '../shared/session-options.js';
import { fetchHost } from '../shared/fetch-host.js';
import { Store as SharedStore } from '../shared/store.js';
import { localStorageBackend } from '../backends/local-storage.js';

export const init = memoisedInit(async (imports, options) => {
  const url = options.wasmUrl || new URL('../wxsession_bg.wasm', import.meta.url);
  if (typeof WebAssembly.instantiateStreaming === 'function') {
    try {
      return await WebAssembly.instantiateStreaming(fetch(url), imports);
    } catch (_) { /* wrong MIME type on some servers: fall back to bytes */ }
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error('GET ' + url + ' answered HTTP ' + res.status);
  return WebAssembly.instantiate(await res.arrayBuffer(), imports);
});

export async function createSession(options) {
  const opts = sessionOptions('web', options);
  await init(opts);
  // The token under exactly storageKey. localStorage may throw (Safari
  // private mode, blocked cookies): the session then keeps it in memory.
  return openSession('web', fetchHost(opts), opts, () => localStorageBackend({ prefix: '' }));
}

/** The Token Store; `backend: 'localStorage'` keeps it there. Call after `await init()`. */
export class Store extends SharedStore {
  constructor(options = {}) {
    const { prefix, ...rest } = options;
    super({ ...rest, backend: options.backend === 'localStorage' ? localStorageBackend({ prefix }) : options.backend });
  }
}

export { Session };
// Signing and verifying need a server's secrets: the node entry has them.
export { nonceStr } from '../shared/nonce.js';
// H5 clients (web entry only): JS-SDK config and official-account OAuth.
export { JssdkClient } from './jssdk-client.js';
export { OAuthClient } from './oauth-client.js';

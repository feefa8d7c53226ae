// Web entry (ES module): fetch + localStorage over the shared core.
import { memoisedInit } from '../shared/loader.js';
import { createSessionWith, Session } from '../shared/session.js';
import { fetchHost, memoryStorage, omit } from '../shared/fetch-host.js';
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

// localStorage can throw (Safari private mode, disabled cookies): fall back
// to memory for this page's life rather than failing every request.
function webStorage() {
  try {
    const ls = globalThis.localStorage;
    const probe = '__wxsession_probe__';
    ls.setItem(probe, '1');
    ls.removeItem(probe);
    return { get: (k) => ls.getItem(k), set: (k, v) => ls.setItem(k, v), remove: (k) => ls.removeItem(k) };
  } catch (_) {
    return memoryStorage();
  }
}

export async function createSession(options) {
  await init(options);
  const host = fetchHost(options, options.storage || webStorage());
  return createSessionWith('web', host, omit(options, ['storage', 'wasmUrl']));
}

/** The Token Store; `backend: 'localStorage'` keeps it there. Call after `await init()`. */
export class Store extends SharedStore {
  constructor(options = {}) {
    const { prefix, ...rest } = options;
    super({ ...rest, backend: options.backend === 'localStorage' ? localStorageBackend({ prefix }) : options.backend });
  }
}

export { Session };
export { signJsapi, verifyRawData, verifyPushSignature, nonceStr } from '../shared/signature.js';
// H5 clients (web entry only): JS-SDK config and official-account OAuth.
export { JssdkClient } from './jssdk-client.js';
export { OAuthClient } from './oauth-client.js';

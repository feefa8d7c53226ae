// What the Wechat class needs from a store, over either a wxsession Store
// (which can re-read past its cache and, with Redis, lock across
// processes) or any object with wechat-jssdk's Store method names.
import { Store } from '../shared/store.js';
import { codedError } from '../shared/errors.js';

const METHODS = ['getGlobalToken', 'updateGlobalToken', 'getSignature', 'saveSignature', 'getOAuthAccessToken', 'saveOAuthAccessToken', 'updateOAuthAccessToken'];

export function credentialStore(store) {
  const missing = METHODS.filter((m) => !store || typeof store[m] !== 'function');
  if (missing.length) throw codedError('BAD_CONFIG', 'the store lacks ' + missing.join(', ') + ' (wechat-jssdk Store methods)');
  const ours = store instanceof Store;
  const backend = ours ? store.backend : null;
  const canLock = !!(backend && typeof backend.lock === 'function' && typeof backend.unlock === 'function');
  const fresh = (kind, id) => (ours ? store._get(kind, id, true) : null);
  return {
    canLock,
    global: () => Promise.resolve(store.getGlobalToken()),
    freshGlobal: () => (ours ? fresh('global', '') : Promise.resolve(store.getGlobalToken())),
    updateGlobal: (patch) => Promise.resolve(store.updateGlobalToken(patch)),
    oauth: (key) => Promise.resolve(store.getOAuthAccessToken(key)),
    freshOAuth: (key) => (ours ? fresh('oauth', key) : Promise.resolve(store.getOAuthAccessToken(key))),
    saveOAuth: (key, info) => Promise.resolve(store.saveOAuthAccessToken(key, info)),
    updateOAuth: (key, info) => Promise.resolve(store.updateOAuthAccessToken(key, info)),
    signature: (url) => Promise.resolve(store.getSignature(url)),
    saveSignature: (url, info) => Promise.resolve(store.saveSignature(url, info)),
    lock: (name, ttl) => backend.lock(name, ttl),
    unlock: (name, token) => backend.unlock(name, token),
  };
}

// A store written for wechat-jssdk (its method names, its own caching) as a
// backend of ours, so `new Wechat({ store: theirStore })` works unchanged:
// records pass through its get*/save*/update* methods as info objects. It
// cannot lock across processes, so refreshes are deduplicated per process
// only, and it has no delete: a record we drop stays there until it is
// overwritten (the core never serves one past its expiry or ticket).
import { codedError } from '../shared/errors.js';

export const JSSDK_METHODS = ['getGlobalToken', 'updateGlobalToken', 'getSignature', 'saveSignature', 'getOAuthAccessToken', 'saveOAuthAccessToken'];

function envelope(info) {
  if (info === null || info === undefined) return null;
  if (typeof info !== 'object' || Array.isArray(info)) throw codedError('STORE_CORRUPT', 'the store answered ' + typeof info + ', not an info object');
  if (Object.keys(info).length === 0 || (Object.keys(info).length === 1 && info.count === 0)) return null;
  const at = info.expiresAt;
  return JSON.stringify({ v: 1, expiresAt: Number.isSafeInteger(at) && at > 0 ? at : null, info });
}

function infoOf(value) {
  return JSON.parse(value).info;
}

export function foreignStoreBackend(store) {
  const route = (key) => {
    if (key === 'global') return { get: () => store.getGlobalToken(), set: (info) => store.updateGlobalToken(info) };
    if (key === 'card' && typeof store.getCardTicket === 'function') {
      return { get: () => store.getCardTicket(), set: (info) => store.updateCardTicket(info) };
    }
    const sep = key.indexOf(':');
    const kind = key.slice(0, sep), id = key.slice(sep + 1);
    if (kind === 'sig') return { get: () => store.getSignature(id), set: (info) => store.saveSignature(id, info) };
    if (kind === 'oauth') return { get: () => store.getOAuthAccessToken(id), set: (info) => store.saveOAuthAccessToken(id, info) };
    if (kind === 'mp' && typeof store.getMPSession === 'function') {
      return { get: () => store.getMPSession(id), set: (info) => store.setMPSession(id, info) };
    }
    throw codedError('BAD_INPUT', 'this store has no place for ' + kind + ' records');
  };
  return {
    get: async (key) => envelope(await route(key).get()),
    set: async (key, value) => { await route(key).set(infoOf(value)); },
    delete: async () => {},
    clear: async () => { if (typeof store.clearStore === 'function') await store.clearStore(); },
    close: async () => {},
  };
}

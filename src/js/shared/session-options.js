// createSession's options, checked in JS before anything crosses into wasm
// (NaN, Infinity, BigInt, null and wrong types are BAD_CONFIG naming the
// key), and the session's storage: the { get, set, delete } interface every
// Token Store backend has. Ranges and URLs are the core's to check.
import { codedError } from './errors.js';
import { checkOptions } from './options.js';

/**
 * A storage of the app's own: get(key) -> string | null, set(key, value,
 * ttlMs), delete(key); each may return a promise.
 */
function storageKind(v) {
  const has = (fn) => v !== null && typeof v === 'object' && typeof v[fn] === 'function';
  if (has('get') && has('set') && has('delete')) return '';
  if (has('remove') && !has('delete')) return 'an object with get, set and delete (remove(key) is now called delete(key))';
  return 'an object with get(key), set(key, value, ttlMs) and delete(key)';
}

function urlKind(v) {
  return typeof v === 'string' || (v !== null && typeof v === 'object' && typeof v.href === 'string') ? '' : 'a string or a URL';
}

// Every host's keys; HOST_OPTIONS adds each host's own (wasmPath, wasmUrl, storagePath).
const SPEC = {
  baseUrl: 'string', loginUrl: 'string', tokenOrigins: 'stringList',
  exchange: 'function', exchangeBody: 'function', getCode: 'function',
  tokenHeader: 'string', tokenPrefix: 'string', storageKey: 'string', storage: storageKind,
  checkSession: 'string', reloginOn: 'intList', maxRelogin: 'int', timeout: 'int', expiryMargin: 'int',
  onEvent: 'function',
};

const HOST_OPTIONS = {
  miniprogram: { wasmPath: 'string' },
  web: { wasmUrl: urlKind },
  node: { wasmPath: 'string', storagePath: 'string' },
};

/** The options as given, checked; throws BAD_CONFIG. */
export function sessionOptions(kind, options) {
  if (options === undefined) throw codedError('BAD_CONFIG', 'createSession needs an options object');
  return checkOptions('createSession', options, Object.assign({}, SPEC, HOST_OPTIONS[kind]));
}

// The host loads the wasm from these; the core never reads them.
const HOST_ONLY = { wasmUrl: true };

/** What the core reads: functions and a storage object become `true` (they stay in JS). */
export function coreOptionsJson(options) {
  const out = {};
  for (const key of Object.keys(options)) {
    if (HOST_ONLY[key]) continue;
    const v = options[key];
    out[key] = typeof v === 'function' || key === 'storage' ? true : v;
  }
  return JSON.stringify(out);
}
